//! What to change so that `target` replicas run: a pure plan, applied by the controller.

use super::docker::Replica;

/// Containers to start and stop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Ports of new replicas (the lowest free ones).
    pub start: Vec<u16>,
    /// Surplus replicas to stop, newest first.
    pub stop: Vec<Replica>,
    /// Containers of the service that are not running (killed from outside, exited): removed
    /// so that their ports and names can be reused.
    pub clean: Vec<Replica>,
}

/// Plans the change from `existing` (every container of the service) to `target` running
/// replicas on ports `base..base + span`.
pub fn plan(existing: &[Replica], target: u32, base: u16, span: u16) -> Plan {
    let (mut running, clean): (Vec<Replica>, Vec<Replica>) =
        existing.iter().cloned().partition(Replica::running);
    let target = target as usize;
    let mut p = Plan {
        clean,
        ..Plan::default()
    };
    if running.len() > target {
        // Newest first: the most recently created (ties: the highest port) go.
        running.sort_by_key(|r| std::cmp::Reverse((r.created, r.port)));
        p.stop = running.drain(..running.len() - target).collect();
    } else {
        let used: std::collections::HashSet<u16> = running.iter().map(|r| r.port).collect();
        let want = target - running.len();
        p.start = (0..span)
            .filter_map(|i| base.checked_add(i))
            .filter(|port| !used.contains(port))
            .take(want)
            .collect();
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(port: u16, created: i64, state: &str) -> Replica {
        Replica {
            id: format!("id{port}"),
            name: format!("n{port}"),
            port,
            created,
            state: state.into(),
        }
    }

    #[test]
    fn starts_on_lowest_free_ports() {
        let ex = vec![r(100, 1, "running"), r(102, 2, "running")];
        let p = plan(&ex, 4, 100, 10);
        assert_eq!(p.start, vec![101, 103]);
        assert!(p.stop.is_empty() && p.clean.is_empty());
    }

    #[test]
    fn stops_newest_surplus() {
        let ex = vec![
            r(100, 1, "running"),
            r(101, 5, "running"),
            r(102, 3, "running"),
        ];
        let p = plan(&ex, 1, 100, 10);
        assert_eq!(
            p.stop.iter().map(|r| r.port).collect::<Vec<_>>(),
            vec![101, 102]
        );
        assert!(p.start.is_empty());
    }

    #[test]
    fn replaces_dead_replicas_and_cleans_them() {
        let ex = vec![r(100, 1, "running"), r(101, 2, "exited")];
        let p = plan(&ex, 2, 100, 10);
        assert_eq!(p.clean.len(), 1);
        assert_eq!(p.start, vec![101], "a dead replica's port is reused");
    }

    #[test]
    fn never_exceeds_the_port_range() {
        let p = plan(&[], 5, 100, 3);
        assert_eq!(p.start, vec![100, 101, 102]);
        assert_eq!(plan(&[], 3, u16::MAX - 1, 5).start.len(), 2);
    }

    #[test]
    fn steady_state_is_a_no_op() {
        let ex = vec![r(100, 1, "running"), r(101, 2, "running")];
        assert_eq!(plan(&ex, 2, 100, 10), Plan::default());
    }
}
