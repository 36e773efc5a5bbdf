//! `ictwin topology generate`: synthetic topologies of a given size that obey the NNS's
//! subnet limits ([`super::Limits::target`]), for growth studies. Same parameters and seed,
//! same topology (a private splitmix64 stream, independent of any crate's generator).
//!
//! Construction: countries get a random center; data center i lies in country i mod C (a
//! random point within 2 degrees of its center) and belongs to owner i mod O. Each subnet
//! takes its data centers from a shuffled list, skipping one whose owner is already in the
//! subnet or whose country is at its limit, and its providers among those with the fewest
//! nodes so far; each (provider, data center) pair becomes a node. Spares go to the providers
//! with the fewest nodes, in random data centers. A request the counting bounds rule out is an
//! error saying which bound; one they allow but 64 shuffles do not place is an error too.

use super::{DataCenter, Limits, Node, NodeProvider, Subnet, SubnetKind, Topology, LARGE_SUBNET_NODES};
use anyhow::{bail, Result};

/// Continents the synthetic countries cycle through.
const CONTINENTS: [&str; 6] = ["Europe", "North America", "Asia", "Oceania", "Africa", "South America"];

/// Shuffles tried per subnet before giving up.
const ATTEMPTS: u64 = 64;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateParams {
    /// Number of subnets (at least 1).
    pub subnets: u32,
    /// Nodes per subnet (at least 1); kind `application` below 28 nodes, `system` from 28.
    pub subnet_size: u32,
    /// Data centers (at least the subnet size).
    pub data_centers: u32,
    /// Node providers (at least the subnet size).
    pub providers: u32,
    /// Countries (1..=data centers; enough for the country limit).
    pub countries: u32,
    /// Data center owners (subnet size..=data centers).
    pub owners: u32,
    /// Unassigned spare nodes beyond the subnets' nodes.
    pub spares: u32,
    /// Seed of every random choice.
    pub seed: u64,
}

/// A splitmix64 stream (Steele, Lea, Flood 2014): small, fast, reproducible everywhere.
struct SplitMix(u64);

impl SplitMix {
    /// The stream for `tag` under `seed`.
    fn new(seed: u64, tag: u64) -> SplitMix {
        let mut s = SplitMix(seed ^ tag.wrapping_mul(0xD1B5_4A32_D192_ED03));
        s.next();
        s
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n >= 1), by 128-bit multiply (bias below 2^-40 for our n).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fisher-Yates shuffle.
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// The kind a generated subnet of `size` nodes gets.
pub fn kind_for(size: u32) -> SubnetKind {
    if size >= LARGE_SUBNET_NODES {
        SubnetKind::System
    } else {
        SubnetKind::Application
    }
}

/// Why `p` cannot be generated, if a counting bound rules it out.
pub fn infeasible(p: &GenerateParams) -> Option<String> {
    let n = p.subnet_size;
    let lim = Limits::target(kind_for(n), n);
    if p.subnets == 0 || n == 0 {
        return Some("--subnets and --subnet-size must be at least 1".into());
    }
    if p.providers < n.div_ceil(lim.node_provider) {
        return Some(format!(
            "a subnet of {n} nodes needs at least {} node providers (at most {} node per provider), got {}",
            n.div_ceil(lim.node_provider),
            lim.node_provider,
            p.providers
        ));
    }
    if p.data_centers < n.div_ceil(lim.data_center) {
        return Some(format!(
            "a subnet of {n} nodes needs at least {} data centers (at most {} per data center), got {}",
            n.div_ceil(lim.data_center),
            lim.data_center,
            p.data_centers
        ));
    }
    if p.owners < n.div_ceil(lim.data_center_owner) || p.owners > p.data_centers {
        return Some(format!(
            "data center owners must be between {} (a subnet of {n} nodes, at most {} per owner) and the {} data \
             centers, got {}",
            n.div_ceil(lim.data_center_owner),
            lim.data_center_owner,
            p.data_centers,
            p.owners
        ));
    }
    if p.countries == 0 || p.countries > p.data_centers {
        return Some(format!(
            "countries must be between 1 and the {} data centers, got {}",
            p.data_centers, p.countries
        ));
    }
    // Data center i is in country i mod C: country c holds ceil or floor of D / C of them.
    let room: u64 = (0..p.countries)
        .map(|c| {
            let dcs = p.data_centers / p.countries + u32::from(c < p.data_centers % p.countries);
            dcs.min(lim.country) as u64
        })
        .sum();
    if room < n as u64 {
        return Some(format!(
            "a subnet of {n} nodes with at most {} nodes per country needs at least {} countries holding data \
             centers; {} countries over {} data centers place at most {room}",
            lim.country,
            n.div_ceil(lim.country),
            p.countries,
            p.data_centers
        ));
    }
    None
}

/// Synthetic data centers: country i mod C, owner i mod O, coordinates near the country's center.
fn data_centers(p: &GenerateParams, rng: &mut SplitMix) -> Vec<DataCenter> {
    let centers: Vec<(f64, f64)> = (0..p.countries)
        .map(|_| (-50.0 + 110.0 * rng.unit(), -180.0 + 360.0 * rng.unit()))
        .collect();
    let round = |v: f64| (v * 100.0).round() / 100.0;
    (0..p.data_centers)
        .map(|i| {
            let c = (i % p.countries) as usize;
            let (lat, lon) = centers[c];
            let lat = round((lat + 4.0 * rng.unit() - 2.0).clamp(-90.0, 90.0));
            let lon = round((lon + 4.0 * rng.unit() - 2.0).clamp(-180.0, 180.0));
            DataCenter {
                id: format!("dc{:04}", i + 1),
                name: String::new(),
                city: String::new(),
                region: String::new(),
                country: format!("C{:03}", c + 1),
                continent: CONTINENTS[c % CONTINENTS.len()].to_string(),
                latitude: lat,
                longitude: lon,
                owner: format!("owner{:04}", i % p.owners + 1),
            }
        })
        .collect()
}

/// Data centers for one subnet obeying the owner and country limits, or `None` if this
/// shuffle fails.
fn pick_data_centers(dcs: &[DataCenter], n: usize, lim: &Limits, rng: &mut SplitMix) -> Option<Vec<usize>> {
    let mut order: Vec<usize> = (0..dcs.len()).collect();
    rng.shuffle(&mut order);
    let mut owners: std::collections::HashMap<&str, u32> = Default::default();
    let mut countries: std::collections::HashMap<&str, u32> = Default::default();
    let mut chosen = Vec::with_capacity(n);
    for i in order {
        let d = &dcs[i];
        let o = owners.get(d.owner.as_str()).copied().unwrap_or(0);
        let c = countries.get(d.country.as_str()).copied().unwrap_or(0);
        if o < lim.data_center_owner && c < lim.country {
            *owners.entry(&d.owner).or_default() += 1;
            *countries.entry(&d.country).or_default() += 1;
            chosen.push(i);
            if chosen.len() == n {
                return Some(chosen);
            }
        }
    }
    None
}

/// The `n` providers with the fewest nodes so far, ties in random order.
fn pick_providers(load: &[u32], n: usize, rng: &mut SplitMix) -> Vec<usize> {
    let mut order: Vec<usize> = (0..load.len()).collect();
    rng.shuffle(&mut order);
    order.sort_by_key(|&i| load[i]);
    order.truncate(n);
    order
}

/// Generates the topology `p` describes.
pub fn generate(p: &GenerateParams) -> Result<Topology> {
    if let Some(why) = infeasible(p) {
        bail!("infeasible topology: {why}");
    }
    let n = p.subnet_size as usize;
    let kind = kind_for(p.subnet_size);
    let limits = Limits::target(kind, p.subnet_size);
    let dcs = data_centers(p, &mut SplitMix::new(p.seed, 1));
    let providers: Vec<NodeProvider> = (0..p.providers)
        .map(|i| NodeProvider {
            id: format!("np{:04}", i + 1),
            name: String::new(),
        })
        .collect();
    let mut load = vec![0u32; providers.len()];
    let mut subnets = Vec::new();
    let mut nodes = Vec::new();
    let mut rng = SplitMix::new(p.seed, 2);
    for s in 0..p.subnets as usize {
        let chosen = (0..ATTEMPTS).find_map(|_| pick_data_centers(&dcs, n, &limits, &mut rng));
        let Some(chosen) = chosen else {
            bail!(
                "could not place subnet {} ({n} nodes: distinct owners, at most {} per country) in {ATTEMPTS} \
                 shuffles of the {} data centers; add data centers, owners or countries",
                s + 1,
                limits.country,
                dcs.len()
            );
        };
        let who = pick_providers(&load, n, &mut rng);
        for (&dc, &np) in chosen.iter().zip(&who) {
            load[np] += 1;
            nodes.push(Node {
                id: String::new(),
                data_center: dc,
                provider: np,
                subnet: Some(s),
                dead: false,
            });
        }
        subnets.push(Subnet {
            id: format!("subnet{:03}", s + 1),
            kind,
            size: p.subnet_size,
            preset: None,
            dead_nodes: 0,
            limits,
        });
    }
    for _ in 0..p.spares {
        let np = pick_providers(&load, 1, &mut rng)[0];
        load[np] += 1;
        nodes.push(Node {
            id: String::new(),
            data_center: rng.below(dcs.len()),
            provider: np,
            subnet: None,
            dead: false,
        });
    }
    for (i, node) in nodes.iter_mut().enumerate() {
        node.id = format!("node{:05}", i + 1);
    }
    Ok(Topology {
        name: format!(
            "synthetic-s{}-n{}-d{}-p{}-c{}-seed{}",
            p.subnets, p.subnet_size, p.data_centers, p.providers, p.countries, p.seed
        ),
        description: format!(
            "Synthetic topology (ictwin topology generate): {} subnets of {} nodes, {} data centers of {} owners \
             in {} countries, {} node providers, {} spares, seed {}.",
            p.subnets, p.subnet_size, p.data_centers, p.owners, p.countries, p.providers, p.spares, p.seed
        ),
        data_centers: dcs,
        providers,
        subnets,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> GenerateParams {
        GenerateParams {
            subnets: 3,
            subnet_size: 13,
            data_centers: 20,
            providers: 15,
            countries: 8,
            owners: 20,
            spares: 5,
            seed: 7,
        }
    }

    #[test]
    fn splitmix_is_the_reference_sequence() {
        // splitmix64 with state 0: first output 0xE220A8397B1DCDAF (Vigna's reference code).
        let mut s = SplitMix(0);
        assert_eq!(s.next(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn counting_bounds_name_what_is_missing() {
        let few_np = GenerateParams {
            providers: 12,
            ..params()
        };
        assert!(infeasible(&few_np).unwrap().contains("node providers"));
        let few_c = GenerateParams {
            countries: 6,
            ..params()
        };
        assert!(
            infeasible(&few_c).unwrap().contains("countries"),
            "{:?}",
            infeasible(&few_c)
        );
        let few_o = GenerateParams { owners: 10, ..params() };
        assert!(infeasible(&few_o).unwrap().contains("owners"));
        assert_eq!(infeasible(&params()), None);
    }

    #[test]
    fn sizes_add_up() {
        let t = generate(&params()).unwrap();
        assert_eq!(t.nodes.len(), 3 * 13 + 5);
        assert_eq!(t.subnets.len(), 3);
        assert_eq!(t.data_centers.len(), 20);
    }
}
