//! One-way base latency between data centers from their coordinates (a subnet's geography),
//! for `[network] latency_matrix` ([`crate::scenario::latency`]) and `ictwin topology latency`.
//!
//! Model: latency(a, b) = great-circle distance / propagation speed in fibre x route inflation
//! + an access term at each end; a pair in one data center gets the local figure instead.
//!
//! Defaults ([`LatencyModel::default`]), with their sources and what is assumed:
//! - distance: haversine on a sphere of the mean Earth radius, 6371.0088 km (IUGG);
//! - propagation: light in fibre travels at about 2/3 c (refractive index about 1.47-1.5),
//!   c x 2/3 = 199.86 km per ms;
//! - route inflation 1.5: fibre routes are longer than the great circle. Singla et al., "The
//!   Internet at the Speed of Light" (HotNets 2014) measure minimum ping times a median of
//!   about 3x the c-latency, of which fibre's slower light accounts for 1.5x; Bozkurt et al.,
//!   "Dissecting Latency in the Internet's Fiber Infrastructure" (2018) quote the rule of
//!   thumb "line-of-sight distance x 2.1 / speed of light in fibre" for measured paths and a
//!   median of 1.3 for shortest paths through the US long-haul conduits. 1.5 between the two is
//!   an **assumption** (data centers sit on well-connected backbones; the access term below
//!   takes the rest of a short path's overhead);
//! - access 1 ms per end (data-center uplink, switching, the way to the backbone): an
//!   **assumption**, chosen so that short pairs come out near the few ms one-way seen between
//!   neighbouring European cities;
//! - same data center 0.125 ms one-way: intra-data-center round trips are "less than 250 µs,
//!   in absence of queuing" (Alizadeh et al., "Data Center TCP", SIGCOMM 2010); half of it, an
//!   **assumption** for the nodes' racks. (Subnet limits keep one subnet's nodes in distinct
//!   data centers, so mainnet subnets never use it.)
//!
//! Queueing and processing are not part of the base latency: they are the per-message jitter
//! (`[network] delay`) and `[node] processing`.

use super::{DataCenter, Topology};
use anyhow::{bail, Result};

/// Mean Earth radius, km (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// Speed of light in vacuum, km per ms.
pub const C_KM_PER_MS: f64 = 299.792458;

/// The constants of the latency model (see the module doc for the defaults' sources).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyModel {
    /// Propagation speed in fibre, km per ms.
    pub fibre_km_per_ms: f64,
    /// Route length over great-circle distance (>= 1).
    pub route_inflation: f64,
    /// One-way access term added at each end of a pair in distinct data centers, ms.
    pub access_ms: f64,
    /// One-way latency between two nodes of one data center, ms.
    pub local_ms: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        LatencyModel {
            fibre_km_per_ms: C_KM_PER_MS * 2.0 / 3.0,
            route_inflation: 1.5,
            access_ms: 1.0,
            local_ms: 0.125,
        }
    }
}

/// Great-circle distance between two points given in degrees (latitude, longitude), km
/// (haversine formula, sphere of [`EARTH_RADIUS_KM`]).
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

impl LatencyModel {
    /// One-way base latency between data centers `a` and `b`, ms (the local figure when they
    /// have the same id).
    pub fn between(&self, a: &DataCenter, b: &DataCenter) -> f64 {
        if a.id == b.id {
            return self.local_ms;
        }
        let km = great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude);
        km / self.fibre_km_per_ms * self.route_inflation + 2.0 * self.access_ms
    }

    /// The n x n matrix of one-way base latencies, ms, for nodes in the data centers `dcs`
    /// (node order; row = sender, column = receiver; diagonal 0: a node's own artifacts).
    pub fn matrix(&self, dcs: &[&DataCenter]) -> Vec<Vec<f64>> {
        dcs.iter()
            .enumerate()
            .map(|(i, a)| {
                dcs.iter()
                    .enumerate()
                    .map(|(j, b)| if i == j { 0.0 } else { self.between(a, b) })
                    .collect()
            })
            .collect()
    }

    /// The matrix of subnet `id` of `topo` (its id or its short id), nodes in file order,
    /// and the subnet's index.
    pub fn subnet_matrix(&self, topo: &Topology, id: &str) -> Result<(usize, Vec<Vec<f64>>)> {
        let Some(s) = topo
            .subnets
            .iter()
            .position(|s| s.id == id || Topology::short_id(&s.id) == id)
        else {
            bail!("no subnet `{id}` in topology `{}`", topo.name);
        };
        let dcs: Vec<&DataCenter> = topo
            .members(s)
            .into_iter()
            .map(|i| &topo.data_centers[topo.nodes[i].data_center])
            .collect();
        Ok((s, self.matrix(&dcs)))
    }
}

/// A matrix as CSV text for `[network] latency_matrix`: `#` comment lines (`comments`), then
/// one row per sender, entries in ms with 3 decimals (whole µs, what the engines use).
pub fn matrix_csv(m: &[Vec<f64>], comments: &[String]) -> String {
    let mut out = String::new();
    for c in comments {
        out.push_str(&format!("# {c}\n"));
    }
    for row in m {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.3}")).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(id: &str, lat: f64, lon: f64) -> DataCenter {
        DataCenter {
            id: id.into(),
            name: id.into(),
            city: id.into(),
            region: String::new(),
            country: String::new(),
            continent: String::new(),
            latitude: lat,
            longitude: lon,
            owner: String::new(),
        }
    }

    /// Zurich (47.3769 N, 8.5417 E) - Frankfurt (50.1109 N, 8.6821 E): 304 km (the published
    /// great-circle distance between the two city centres), within 1%.
    #[test]
    fn zurich_frankfurt_is_about_300_km() {
        let km = great_circle_km(47.3769, 8.5417, 50.1109, 8.6821);
        assert!((km - 304.0).abs() < 3.04, "{km}");
        // London - New York: 5570 km.
        let km = great_circle_km(51.5074, -0.1278, 40.7128, -74.0060);
        assert!((km - 5570.0).abs() < 55.7, "{km}");
    }

    #[test]
    fn latency_follows_the_model() {
        let m = LatencyModel::default();
        let (zh, fr) = (dc("zh1", 47.3769, 8.5417), dc("fr1", 50.1109, 8.6821));
        let km = great_circle_km(47.3769, 8.5417, 50.1109, 8.6821);
        let want = km / (299.792458 * 2.0 / 3.0) * 1.5 + 2.0;
        assert!((m.between(&zh, &fr) - want).abs() < 1e-12);
        assert!((3.5..5.0).contains(&want), "{want}");
        assert_eq!(m.between(&zh, &zh.clone()), 0.125);
        let mat = m.matrix(&[&zh, &fr, &zh]);
        assert_eq!(mat[0][0], 0.0);
        assert_eq!(mat[0][2], 0.125);
        assert_eq!(mat[1][0], mat[0][1]);
        let csv = matrix_csv(&mat, &["x".into()]);
        assert!(csv.starts_with("# x\n0.000,"), "{csv}");
    }
}
