//! Reading a configuration entry that is a set of keys every kind takes plus the keys of
//! its `kind` (a `[[policies]]` or `[[forecasters]]` entry): the common keys first, then
//! the kind's, refusing a key of another kind with the list of keys this kind takes.
//! By hand because serde cannot deny unknown fields through `#[serde(flatten)]`.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The name a unit enum variant has in configuration files (`simple_ceiling`).
pub(crate) fn serde_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The keys `T` declares (every field of its default, serialized).
pub(crate) fn keys_of<T: Serialize + Default>() -> Vec<String> {
    match serde_json::to_value(T::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Reads `T` from the keys of `table` it declares, taking them out.
pub(crate) fn take<T: DeserializeOwned + Serialize + Default>(
    table: &mut toml::Table,
) -> Result<T, String> {
    let mut own = toml::Table::new();
    for k in keys_of::<T>() {
        if let Some(v) = table.remove(&k) {
            own.insert(k, v);
        }
    }
    toml::Value::Table(own)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
}

/// How one kind of entry is read.
pub(crate) struct EntryKind<K> {
    /// What the entries are (`policy`, `forecaster`), for errors.
    pub what: &'static str,
    /// The keys a kind takes beside the common ones.
    pub keys: fn(K) -> Vec<String>,
}

/// Splits `table` into its common keys `C` and its kind's settings `P` (a
/// `#[serde(tag = "kind")]` enum); `name` gives the entry's name, for errors.
pub(crate) fn read<C, K, P>(
    mut table: toml::Table,
    kind: EntryKind<K>,
    name: impl Fn(&C) -> Option<String>,
) -> Result<(C, P), String>
where
    C: DeserializeOwned + Serialize + Default,
    K: DeserializeOwned + Serialize + Copy,
    P: DeserializeOwned,
{
    let common = take::<C>(&mut table)?;
    let k: K = match table.get("kind") {
        None => return Err("missing field `kind`".into()),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| format!("kind: {}", e.message()))?,
    };
    let takes = (kind.keys)(k);
    let mut stray: Vec<&str> = table
        .keys()
        .map(String::as_str)
        .filter(|key| *key != "kind" && !takes.iter().any(|t| t == key))
        .collect();
    if !stray.is_empty() {
        stray.sort_unstable();
        let mut all = keys_of::<C>();
        all.extend(takes);
        return Err(format!(
            "key(s) {} do not apply to {} kind '{}' (it takes: {})",
            stray.join(", "),
            kind.what,
            name(&common).unwrap_or_else(|| serde_name(&k)),
            all.join(", ")
        ));
    }
    let params = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    Ok((common, params))
}
