//! How fresh each area's data is on this node (the alert page shows it):
//! when the area's data last came from the node that owns it. At HQ an
//! area's reports and steps come from the offices registered for it, so its
//! freshness is each such office's last contact; at an office everything
//! from elsewhere comes with a pull from HQ, so it is the last completed sync.

use jiff::Timestamp;
use serde::Serialize;
use vitalcore_store::sync::{NodeRole, SyncStore};

use super::SyncFailure;

/// One area's freshness as seen from one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaFreshness {
    /// The area's P-code (or prefix), as the office was registered for it.
    pub area: String,
    /// Where its data comes from: an office's name, or `hq`.
    pub from: String,
    /// When it last came (`None`: never yet).
    pub last_sync: Option<Timestamp>,
}

/// The freshness of the areas this node gets data for; `None` when this
/// database does not synchronise (a single-site installation). At HQ, every
/// active office's areas, by area; at an office, `areas_shown` (the areas
/// on the page; every area when none is given, as `*`).
pub fn area_freshness(
    store: &dyn SyncStore,
    areas_shown: &[String],
) -> Result<Option<Vec<AreaFreshness>>, SyncFailure> {
    let Some(node) = store.node()? else { return Ok(None) };
    let mut rows: Vec<AreaFreshness> = match node.role {
        NodeRole::Hq => store
            .offices()?
            .into_iter()
            .filter(|o| o.revoked_at.is_none())
            .flat_map(|o| {
                o.areas
                    .iter()
                    .map(|area| AreaFreshness { area: area.clone(), from: o.name.clone(), last_sync: o.last_sync })
                    .collect::<Vec<_>>()
            })
            .collect(),
        NodeRole::Office => {
            let mut areas: Vec<String> = areas_shown.to_vec();
            if areas.is_empty() {
                areas.push("*".into());
            }
            areas.into_iter().map(|area| AreaFreshness { area, from: "hq".into(), last_sync: node.last_sync }).collect()
        }
    };
    rows.sort_by(|a, b| (&a.area, &a.from).cmp(&(&b.area, &b.from)));
    rows.dedup();
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_store::sync::{Node, Office};
    use vitalcore_store_sqlite::SqliteStore;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn node(role: NodeRole, last_sync: Option<Timestamp>) -> Node {
        Node {
            node_id: "n-1".into(),
            name: if role == NodeRole::Hq { "hq".into() } else { "bambari".into() },
            role,
            space: u8::from(role == NodeRole::Office),
            hq_node: None,
            credential_hash: None,
            created_at: ts("2026-12-01T00:00:00Z"),
            last_sync,
            pending_down: 0,
        }
    }

    fn office(name: &str, areas: &[&str], space: u8, last_sync: Option<&str>) -> Office {
        Office {
            name: name.into(),
            node_id: format!("n-{name}"),
            areas: areas.iter().map(|a| a.to_string()).collect(),
            space,
            credential_hash: vec![0; 32],
            created_at: ts("2026-12-01T00:00:00Z"),
            revoked_at: None,
            last_sync: last_sync.map(ts),
            pending_up: 0,
        }
    }

    #[test]
    fn hq_shows_each_active_offices_areas_with_its_last_contact() {
        let store = SqliteStore::open_in_memory().unwrap();
        assert_eq!(area_freshness(&store, &[]).unwrap(), None, "a database that does not sync shows nothing");
        store.init_node(&node(NodeRole::Hq, None)).unwrap();
        store.add_office(&office("bambari", &["CF32"], 1, Some("2026-12-07T17:00:00Z"))).unwrap();
        store.office_seen("bambari", ts("2026-12-07T17:00:00Z"), None).unwrap();
        store.add_office(&office("kaga", &["CF32", "CF41"], 2, None)).unwrap();
        store.add_office(&office("zemio", &["CF52"], 3, None)).unwrap();
        store.revoke_office("zemio", ts("2026-12-05T00:00:00Z")).unwrap();
        let rows = area_freshness(&store, &["CF11".into()]).unwrap().unwrap();
        let got: Vec<(&str, &str, Option<Timestamp>)> =
            rows.iter().map(|r| (r.area.as_str(), r.from.as_str(), r.last_sync)).collect();
        assert_eq!(
            got,
            [("CF32", "bambari", Some(ts("2026-12-07T17:00:00Z"))), ("CF32", "kaga", None), ("CF41", "kaga", None),]
        );
    }

    #[test]
    fn an_office_shows_its_last_pull_for_the_areas_on_the_page() {
        let store = SqliteStore::open_in_memory().unwrap();
        let at = ts("2026-12-07T18:30:00Z");
        store.init_node(&node(NodeRole::Office, None)).unwrap();
        store.node_synced(at, 0).unwrap();
        let rows = area_freshness(&store, &["CF32".into(), "CF32".into()]).unwrap().unwrap();
        assert_eq!(rows, [AreaFreshness { area: "CF32".into(), from: "hq".into(), last_sync: Some(at) }]);
        let all = area_freshness(&store, &[]).unwrap().unwrap();
        assert_eq!(all[0].area, "*");
    }
}
