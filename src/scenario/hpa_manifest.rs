//! `manifest = "hpa.yaml"` in a `kind = "hpa"` entry: the `spec` of a Kubernetes
//! `autoscaling/v2` HorizontalPodAutoscaler — `minReplicas`, `maxReplicas`, `metrics`,
//! `behavior` — read into the entry, so a cluster's own HPA runs unchanged in the simulator.

use std::path::Path;

use toml::{Table, Value};

/// Replaces a `manifest` key of a policy table by the settings of the manifest it names
/// (relative to `base_dir`). Tables without one are left alone.
pub fn merge(table: &mut Table, base_dir: &Path) -> Result<(), String> {
    let Some(m) = table.remove("manifest") else {
        return Ok(());
    };
    let Value::String(file) = m else {
        return Err("manifest must be the path of an HPA manifest (YAML or JSON)".into());
    };
    if table.get("kind").and_then(Value::as_str) != Some("hpa") {
        return Err("manifest (a Kubernetes HPA) applies to kind = \"hpa\" only".into());
    }
    let path = base_dir.join(&file);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("manifest {}: {e}", path.display()))?;
    let spec = read_spec(&text).map_err(|e| format!("manifest {}: {e}", path.display()))?;
    for (key, value) in spec {
        if table.contains_key(&key) {
            return Err(format!(
                "`{key}` is set both here and in the manifest {}: keep one",
                path.display()
            ));
        }
        table.insert(key, value);
    }
    if table.contains_key("metric") || table.contains_key("target") {
        return Err(format!(
            "`metric` / `target` cannot be combined with a manifest ({}): its metrics apply",
            path.display()
        ));
    }
    Ok(())
}

/// The entry keys a manifest's `spec` sets.
fn read_spec(text: &str) -> Result<Vec<(String, Value)>, String> {
    let doc: serde_json::Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    let api = doc["apiVersion"].as_str().unwrap_or("");
    if doc["kind"].as_str() != Some("HorizontalPodAutoscaler") || api != "autoscaling/v2" {
        return Err(format!(
            "not an autoscaling/v2 HorizontalPodAutoscaler (apiVersion '{api}', kind '{}')",
            doc["kind"].as_str().unwrap_or("")
        ));
    }
    let Some(spec) = doc["spec"].as_object() else {
        return Err("has no spec".into());
    };
    let mut out = Vec::new();
    for (k, v) in spec {
        let key = match k.as_str() {
            "scaleTargetRef" => continue,
            "minReplicas" => "min_replicas",
            "maxReplicas" => "max_replicas",
            "metrics" => "metrics",
            "behavior" => "behavior",
            other => return Err(format!("spec.{other} is not an HPA field the simulator reads (it reads minReplicas, maxReplicas, metrics, behavior)")),
        };
        if let Some(v) = to_toml(v) {
            out.push((key.to_string(), v));
        }
    }
    Ok(out)
}

/// JSON to TOML, dropping nulls (TOML has none: an absent key means the same).
fn to_toml(v: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64()?),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(a) => Value::Array(a.iter().filter_map(to_toml).collect()),
        J::Object(o) => Value::Table(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), to_toml(v)?)))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HPA: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 30
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 60
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
      policies:
      - type: Pods
        value: 2
        periodSeconds: 60
";

    #[test]
    fn an_hpa_manifest_becomes_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hpa.yaml"), HPA).unwrap();
        let mut t: Table = toml::from_str("kind = 'hpa'\nmanifest = 'hpa.yaml'").unwrap();
        merge(&mut t, dir.path()).unwrap();
        let spec: crate::policy::PolicySpec = Value::Table(t).try_into().unwrap();
        spec.validate().unwrap();
        assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), Some(30)));
        let cfg = spec.hpa_config().unwrap();
        assert_eq!(
            cfg.metrics,
            vec![crate::policy::hpa::Metric::CpuUtilization { target_pct: 60 }]
        );
        assert_eq!(cfg.behavior.unwrap().down.window_ms, 120_000);
    }

    #[test]
    fn conflicts_and_other_kinds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hpa.yaml"), HPA).unwrap();
        let mut t: Table =
            toml::from_str("kind = 'hpa'\nmanifest = 'hpa.yaml'\nmax_replicas = 4").unwrap();
        assert!(merge(&mut t, dir.path())
            .unwrap_err()
            .contains("`max_replicas` is set both"));
        std::fs::write(
            dir.path().join("v1.yaml"),
            HPA.replace("autoscaling/v2", "autoscaling/v1"),
        )
        .unwrap();
        let mut t: Table = toml::from_str("kind = 'hpa'\nmanifest = 'v1.yaml'").unwrap();
        assert!(merge(&mut t, dir.path())
            .unwrap_err()
            .contains("autoscaling/v2"));
        let mut t: Table = toml::from_str("kind = 'buffered'\nmanifest = 'hpa.yaml'").unwrap();
        assert!(merge(&mut t, dir.path())
            .unwrap_err()
            .contains("kind = \"hpa\" only"));
    }
}
