//! A JSON object: members in the order they were first written, shared.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{Str, Value};

/// Objects up to this many members are searched in order; larger ones
/// keep an index from name to position.
const INDEXED_FROM: usize = 16;

/// A JSON object. Members keep the order in which their names first
/// appeared (a repeated name replaces the value in place, as a later
/// duplicate key does in a parsed document); two objects are equal when
/// they have the same members, in any order. Cloning shares the members;
/// a change copies them first if they are shared.
#[derive(Clone)]
pub struct Map(Arc<Members>);

#[derive(Clone, Default)]
struct Members {
    list: Vec<(Str, Value)>,
    /// Name to position, kept only past `INDEXED_FROM` members.
    index: Option<HashMap<Str, u32>>,
}

impl Members {
    fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).map(|&i| i as usize),
            None => self.list.iter().position(|(k, _)| k.as_str() == name),
        }
    }

    fn reindex(&mut self) {
        self.index = (self.list.len() > INDEXED_FROM)
            .then(|| self.list.iter().enumerate().map(|(i, (k, _))| (k.clone(), i as u32)).collect());
    }
}

impl Default for Map {
    fn default() -> Map {
        Map::new()
    }
}

impl Map {
    pub fn new() -> Map {
        Map(Arc::new(Members::default()))
    }

    pub fn with_capacity(capacity: usize) -> Map {
        Map(Arc::new(Members { list: Vec::with_capacity(capacity), index: None }))
    }

    /// A map of members whose names are known to differ (a template's
    /// fields, checked when it was compiled), in their order: no name is
    /// looked up.
    pub fn from_unique(list: Vec<(Str, Value)>) -> Map {
        debug_assert!(list.iter().enumerate().all(|(i, (k, _))| list[..i].iter().all(|(o, _)| o != k)));
        let mut members = Members { list, index: None };
        if members.list.len() > INDEXED_FROM {
            members.reindex();
        }
        Map(Arc::new(members))
    }

    /// A map of members in their order, a repeated name's later value
    /// replacing the earlier in its place, as [`insert`](Map::insert) does:
    /// names that all differ (a struct's fields) are moved in, not looked up.
    pub fn from_list(list: Vec<(Str, Value)>) -> Map {
        if list.iter().enumerate().all(|(i, (k, _))| list[..i].iter().all(|(o, _)| o != k)) {
            Map::from_unique(list)
        } else {
            list.into_iter().collect()
        }
    }

    pub fn len(&self) -> usize {
        self.0.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.list.is_empty()
    }

    /// Whether both share the same members (a clone that neither changed).
    pub fn ptr_eq(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.position(name).map(|i| &self.0.list[i].1)
    }

    /// The member's own name (which lives as long as the map) and value.
    pub fn get_key_value(&self, name: &str) -> Option<(&Str, &Value)> {
        self.0.position(name).map(|i| {
            let (k, v) = &self.0.list[i];
            (k, v)
        })
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.0.position(name).is_some()
    }

    /// The member to change; the members are copied first if shared.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        let i = self.0.position(name)?;
        Some(&mut Arc::make_mut(&mut self.0).list[i].1)
    }

    /// Sets a member: in its place if the name is there (returning the
    /// value it had), else last.
    pub fn insert(&mut self, name: impl Into<Str>, value: Value) -> Option<Value> {
        let name = name.into();
        if let Some(i) = self.0.position(&name) {
            return Some(std::mem::replace(&mut Arc::make_mut(&mut self.0).list[i].1, value));
        }
        if Arc::get_mut(&mut self.0).is_none() {
            // Shared: copied with room for the new member, not copied and then grown.
            let mut list = Vec::with_capacity(self.0.list.len() + 1);
            list.extend(self.0.list.iter().cloned());
            self.0 = Arc::new(Members { list, index: self.0.index.clone() });
        }
        let members = Arc::make_mut(&mut self.0);
        let at = members.list.len();
        members.list.push((name, value));
        match &mut members.index {
            Some(index) => {
                index.insert(members.list[at].0.clone(), at as u32);
            }
            None if members.list.len() > INDEXED_FROM => members.reindex(),
            None => {}
        }
        None
    }

    /// The member to change, set to `default` first (last) if it is not there.
    pub fn get_or_insert(&mut self, name: impl Into<Str>, default: Value) -> &mut Value {
        let name = name.into();
        let i = match self.0.position(&name) {
            Some(i) => i,
            None => {
                self.insert(name, default);
                self.len() - 1
            }
        };
        &mut Arc::make_mut(&mut self.0).list[i].1
    }

    /// Removes a member, keeping the others' order.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.0.position(name)?;
        let members = Arc::make_mut(&mut self.0);
        let (_, value) = members.list.remove(i);
        members.reindex();
        Some(value)
    }

    /// Keeps the members for which `keep` is true, in their order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &Value) -> bool) {
        let members = Arc::make_mut(&mut self.0);
        members.list.retain(|(k, v)| keep(k, v));
        members.reindex();
    }

    /// The members, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.list.iter())
    }

    /// The members' values to change, in order (copied first if shared).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        Arc::make_mut(&mut self.0).list.iter_mut().map(|(_, v)| v)
    }

    /// The members, names and values to change, in order (copied first if shared).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Str, &mut Value)> {
        Arc::make_mut(&mut self.0).list.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Str> + DoubleEndedIterator {
        self.0.list.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + DoubleEndedIterator {
        self.0.list.iter().map(|(_, v)| v)
    }

    /// The member at a position, in document order.
    pub fn get_index(&self, i: usize) -> Option<(&Str, &Value)> {
        self.0.list.get(i).map(|(k, v)| (k, v))
    }
}

static NULL: Value = Value::Null;

/// `map["name"]`: the member, or `null` when there is none (as serde_json's maps index).
impl std::ops::Index<&str> for Map {
    type Output = Value;
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&NULL)
    }
}

/// `value["name"]` and `value[0]`: the member or item, or `null` when there is none.
impl<I: crate::Index> std::ops::Index<I> for Value {
    type Output = Value;
    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(&NULL)
    }
}

/// `value["name"] = ...`, as serde_json's values allow it: `null` becomes an
/// empty object, a missing member is added as `null` first. Panics on any
/// other type, as serde_json does: for tests and builders of known shape;
/// code that handles input uses `get_mut` and `insert`.
impl std::ops::IndexMut<&str> for Value {
    fn index_mut(&mut self, name: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        match self {
            Value::Object(map) => map.get_or_insert(name, Value::Null),
            other => panic!("cannot index a JSON {} by the name {name:?}", other.type_name()),
        }
    }
}

/// `value[i] = ...`: panics when `value` is not an array of more than `i` items.
impl std::ops::IndexMut<usize> for Value {
    fn index_mut(&mut self, i: usize) -> &mut Value {
        let kind = self.type_name();
        match self.as_array_mut().and_then(|items| items.get_mut(i)) {
            Some(item) => item,
            None => panic!("cannot index a JSON {kind} at {i}"),
        }
    }
}

/// The members of a map, in order.
#[derive(Clone)]
pub struct Iter<'m>(std::slice::Iter<'m, (Str, Value)>);

impl<'m> Iterator for Iter<'m> {
    type Item = (&'m Str, &'m Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<'m> IntoIterator for &'m Map {
    type Item = (&'m Str, &'m Value);
    type IntoIter = Iter<'m>;
    fn into_iter(self) -> Iter<'m> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    /// The members, taken without copying when not shared.
    fn into_iter(self) -> Self::IntoIter {
        Arc::unwrap_or_clone(self.0).list.into_iter()
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Map {
        let iter = iter.into_iter();
        let mut map = Map::with_capacity(iter.size_hint().0);
        map.extend(iter);
        map
    }
}

impl<K: Into<Str>> Extend<(K, Value)> for Map {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.ptr_eq(other)
            || (self.len() == other.len() && self.iter().all(|(k, v)| other.get(k).is_some_and(|w| v == w)))
    }
}

impl Eq for Map {}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Value::Object(self.clone()).to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(map: &Map) -> Vec<&str> {
        map.keys().map(|k| k.as_str()).collect()
    }

    #[test]
    fn a_list_with_a_repeated_name_keeps_the_first_place_and_the_last_value() {
        let list = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, v)| (Str::new(k), Value::from(*v))).collect();
        let map = Map::from_list(list(&[("b", 1), ("a", 2), ("b", 3)]));
        assert_eq!(names(&map), ["b", "a"]);
        assert_eq!(map.get("b"), Some(&Value::from(3)));
        let many: Vec<(String, i64)> = (0..40).map(|i| (format!("k{i}"), i)).collect();
        let many = Map::from_list(many.iter().map(|(k, v)| (Str::new(k), Value::from(*v))).collect());
        assert_eq!(many.len(), 40);
        assert_eq!(many.get("k39"), Some(&Value::from(39)), "a large map is found by its index");
    }

    #[test]
    fn order_is_kept_through_insert_replace_and_remove() {
        for n in [3, 40] {
            let mut map = Map::new();
            for i in (0..n).rev() {
                map.insert(format!("k{i}"), Value::from(i));
            }
            assert_eq!(map.len(), n);
            assert_eq!(map.insert("k1", Value::from("again")), Some(Value::from(1)));
            assert_eq!(map.get("k1"), Some(&Value::from("again")));
            assert_eq!(names(&map)[n - 2], "k1", "replaced in place");
            assert_eq!(map.remove("k0"), Some(Value::from(0)));
            assert_eq!(map.remove("k0"), None);
            assert_eq!(names(&map).len(), n - 1);
            assert_eq!(names(&map)[0], format!("k{}", n - 1));
            for i in 1..n {
                assert!(map.get(&format!("k{i}")).is_some(), "k{i} of {n}");
            }
            map.retain(|k, _| k.as_str() != "k2");
            assert!(!map.contains_key("k2") && map.contains_key("k1") && map.len() == n - 2);
        }
    }

    #[test]
    fn a_clone_is_untouched_by_a_change() {
        let mut a: Map = [("x", Value::from(1)), ("y", Value::from(2))].into_iter().collect();
        let b = a.clone();
        assert!(a.ptr_eq(&b));
        *a.get_mut("x").unwrap() = Value::from(9);
        assert!(!a.ptr_eq(&b));
        assert_eq!(b.get("x"), Some(&Value::from(1)));
        assert_eq!(a.get("x"), Some(&Value::from(9)));
    }
}
