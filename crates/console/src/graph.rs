//! A state machine as the console draws it: the same nodes and edges as
//! `orderflow graph` (a start, each state, an end; `Next`, each Choice rule
//! and its default, each Catch labelled with the errors it takes; Parallel
//! branches and Map processors as groups entered from their state), laid
//! out in layers from the start, nested machines inside their state's box.

use orderflow_asl::StateMachine;
use orderflow_asl::model::{Kind, State, Transition};
use serde_json::{Value, json};

/// A state's box, and the gaps around it.
const NODE_W: f64 = 180.0;
const NODE_H: f64 = 48.0;
const GAP_X: f64 = 40.0;
const GAP_Y: f64 = 56.0;
/// The title bar and padding of a group.
const GROUP_HEAD: f64 = 28.0;
const GROUP_PAD: f64 = 16.0;

/// A laid-out box: a state, the start or end, or a group.
#[derive(Debug, Clone)]
pub struct Node {
    /// The state's name (unique in a machine, nested ones included), or `(start)`/`(end)`.
    pub id: String,
    pub kind: &'static str,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// The group it sits in (a Map's processor, a Parallel's branch).
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// `next`, `rule`, `default`, `catch`, `into` (a Map or Parallel into its processor or branch).
    pub kind: &'static str,
    pub label: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub title: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub groups: Vec<Group>,
    pub width: f64,
    pub height: f64,
}

impl Graph {
    pub fn to_json(&self) -> Value {
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| json!({"id": n.id, "kind": n.kind, "x": n.x, "y": n.y, "w": n.w, "h": n.h, "group": n.group}))
            .collect();
        let edges: Vec<Value> =
            self.edges.iter().map(|e| json!({"from": e.from, "to": e.to, "kind": e.kind, "label": e.label})).collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| json!({"id": g.id, "title": g.title, "x": g.x, "y": g.y, "w": g.w, "h": g.h}))
            .collect();
        json!({"nodes": nodes, "edges": edges, "groups": groups, "width": self.width, "height": self.height})
    }
}

pub const START: &str = "(start)";
pub const END: &str = "(end)";

/// The graph of `machine`, laid out.
pub fn graph(machine: &StateMachine) -> Graph {
    let mut out = Graph::default();
    let block = block(machine, true, &mut out.edges);
    place(&block, 0.0, 0.0, None, &mut out);
    out.width = block.w;
    out.height = block.h;
    out
}

/// One machine laid out in its own frame: rows of items.
struct Block {
    rows: Vec<Vec<Item>>,
    w: f64,
    h: f64,
}

/// A box in a block: a plain node, or a state holding groups (Map, Parallel).
struct Item {
    id: String,
    kind: &'static str,
    w: f64,
    h: f64,
    /// Its groups (title, block), side by side under its own header.
    inner: Vec<(String, String, Block)>,
}

fn kind_of(state: &State) -> &'static str {
    state.kind.type_name()
}

/// The edges of one state, as `orderflow graph` draws them.
fn edges_of(state: &State, top: bool, edges: &mut Vec<Edge>) {
    let name = state.name.to_string();
    let edge = |to: &str, kind: &'static str, label: Option<String>| Edge {
        from: name.clone(),
        to: to.to_owned(),
        kind,
        label,
    };
    match &state.transition {
        Transition::Next(next) => edges.push(edge(&next.name, "next", None)),
        Transition::End if top => edges.push(edge(END, "next", None)),
        _ => {}
    }
    if let Kind::Choice { choices, default, .. } = &state.kind {
        for (i, (_, next)) in choices.iter().enumerate() {
            edges.push(edge(&next.name, "rule", Some(format!("rule {}", i + 1))));
        }
        if let Some(d) = default {
            edges.push(edge(&d.name, "default", Some("default".into())));
        }
    }
    if matches!(state.kind, Kind::Succeed) && top {
        edges.push(edge(END, "next", None));
    }
    for catcher in &state.catch {
        edges.push(edge(&catcher.next.name, "catch", Some(catcher.error_equals.join(", "))));
    }
}

/// The states of `machine` in layers: breadth first from its start along
/// its transitions; states nothing reaches come last, in the order written.
fn layers(machine: &StateMachine) -> Vec<Vec<&State>> {
    let index = |name: &str| machine.states.iter().position(|s| *s.name == *name);
    let mut layer_of: Vec<Option<usize>> = vec![None; machine.states.len()];
    let mut queue = std::collections::VecDeque::new();
    if let Some(start) = index(&machine.start_at.name) {
        layer_of[start] = Some(0);
        queue.push_back(start);
    }
    while let Some(i) = queue.pop_front() {
        let state = &machine.states[i];
        let mut next: Vec<&str> = Vec::new();
        if let Transition::Next(n) = &state.transition {
            next.push(&n.name);
        }
        if let Kind::Choice { choices, default, .. } = &state.kind {
            next.extend(choices.iter().map(|(_, n)| &*n.name));
            next.extend(default.iter().map(|d| &*d.name));
        }
        next.extend(state.catch.iter().map(|c| &*c.next.name));
        for name in next {
            if let Some(j) = index(name)
                && layer_of[j].is_none()
            {
                layer_of[j] = Some(layer_of[i].unwrap_or(0) + 1);
                queue.push_back(j);
            }
        }
    }
    let deepest = layer_of.iter().flatten().max().copied().unwrap_or(0);
    let mut rows: Vec<Vec<&State>> = vec![Vec::new(); deepest + 2];
    for (i, state) in machine.states.iter().enumerate() {
        rows[layer_of[i].unwrap_or(deepest + 1)].push(state);
    }
    rows.retain(|r| !r.is_empty());
    rows
}

fn block(machine: &StateMachine, top: bool, edges: &mut Vec<Edge>) -> Block {
    let mut rows: Vec<Vec<Item>> = Vec::new();
    let plain =
        |id: &str, kind: &'static str| Item { id: id.to_owned(), kind, w: NODE_W, h: NODE_H, inner: Vec::new() };
    if top {
        rows.push(vec![Item { w: 90.0, h: 36.0, ..plain(START, "start") }]);
        edges.push(Edge { from: START.into(), to: machine.start_at.name.to_string(), kind: "next", label: None });
    }
    for layer in layers(machine) {
        let mut row = Vec::new();
        for state in layer {
            edges_of(state, top, edges);
            let mut item = plain(&state.name, kind_of(state));
            let nested: Vec<(String, &StateMachine)> = match &state.kind {
                Kind::Parallel { branches } => {
                    branches.iter().enumerate().map(|(i, b)| (format!("{}: branch {}", state.name, i + 1), b)).collect()
                }
                Kind::Map(spec) => vec![(format!("{}: each item", state.name), &spec.processor)],
                _ => Vec::new(),
            };
            for (i, (title, inner)) in nested.into_iter().enumerate() {
                edges.push(Edge {
                    from: state.name.to_string(),
                    to: inner.start_at.name.to_string(),
                    kind: "into",
                    label: None,
                });
                let b = block(inner, false, edges);
                item.inner.push((format!("{}#{}", state.name, i + 1), title, b));
            }
            if !item.inner.is_empty() {
                let inner_w: f64 = item.inner.iter().map(|(_, _, b)| b.w + 2.0 * GROUP_PAD).sum::<f64>()
                    + GAP_X * (item.inner.len() - 1) as f64;
                let inner_h = item.inner.iter().map(|(_, _, b)| b.h).fold(0.0, f64::max) + GROUP_HEAD + GROUP_PAD;
                item.w = item.w.max(inner_w + 2.0 * GROUP_PAD);
                item.h = NODE_H + GROUP_PAD + inner_h + GROUP_PAD;
            }
            row.push(item);
        }
        rows.push(row);
    }
    if top {
        rows.push(vec![Item { w: 90.0, h: 36.0, ..plain(END, "end") }]);
    }
    let row_w = |row: &Vec<Item>| row.iter().map(|i| i.w).sum::<f64>() + GAP_X * row.len().saturating_sub(1) as f64;
    let w = rows.iter().map(row_w).fold(NODE_W, f64::max);
    let h = rows.iter().map(|r| r.iter().map(|i| i.h).fold(0.0, f64::max)).sum::<f64>()
        + GAP_Y * rows.len().saturating_sub(1) as f64;
    Block { rows, w, h }
}

/// Gives the block's items their places, from (`x`, `y`).
fn place(block: &Block, x: f64, y: f64, group: Option<&str>, out: &mut Graph) {
    let mut top = y;
    for row in &block.rows {
        let row_w = row.iter().map(|i| i.w).sum::<f64>() + GAP_X * row.len().saturating_sub(1) as f64;
        let mut left = x + (block.w - row_w) / 2.0;
        let row_h = row.iter().map(|i| i.h).fold(0.0, f64::max);
        for item in row {
            out.nodes.push(Node {
                id: item.id.clone(),
                kind: item.kind,
                x: left,
                y: top,
                w: item.w,
                h: item.h,
                group: group.map(str::to_owned),
            });
            let inner_w: f64 = item.inner.iter().map(|(_, _, b)| b.w + 2.0 * GROUP_PAD).sum::<f64>()
                + GAP_X * item.inner.len().saturating_sub(1) as f64;
            let mut gx = left + (item.w - inner_w) / 2.0;
            for (id, title, inner) in &item.inner {
                let gy = top + NODE_H + GROUP_PAD;
                let gw = inner.w + 2.0 * GROUP_PAD;
                out.groups.push(Group {
                    id: id.clone(),
                    title: title.clone(),
                    x: gx,
                    y: gy,
                    w: gw,
                    h: inner.h + GROUP_HEAD + GROUP_PAD,
                });
                place(inner, gx + GROUP_PAD, gy + GROUP_HEAD, Some(id), out);
                gx += gw + GAP_X;
            }
            left += item.w + GAP_X;
        }
        top += row_h + GAP_Y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(definition: Value) -> StateMachine {
        orderflow_asl::compile::parse_unchecked(&definition.into()).unwrap()
    }

    #[test]
    fn nodes_and_edges_as_orderflow_graph_draws_them() {
        let m = machine(json!({"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Work"}], "Default": "Stop"},
            "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Stop"}], "Next": "Each"},
            "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": true}}}, "End": true},
            "Stop": {"Type": "Fail", "Error": "E"}
        }}));
        let g = graph(&m);
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        for id in [START, "Check", "Work", "Each", "One", "Stop", END] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        let has = |from: &str, to: &str, kind: &str, label: Option<&str>| {
            g.edges.iter().any(|e| e.from == from && e.to == to && e.kind == kind && e.label.as_deref() == label)
        };
        assert!(has(START, "Check", "next", None));
        assert!(has("Check", "Work", "rule", Some("rule 1")));
        assert!(has("Check", "Stop", "default", Some("default")));
        assert!(has("Work", "Stop", "catch", Some("States.ALL")));
        assert!(has("Work", "Each", "next", None));
        assert!(has("Each", END, "next", None));
        assert!(has("Each", "One", "into", None));
        // Inside a group: no end of its own (as `orderflow graph` draws a subgraph).
        assert!(!g.edges.iter().any(|e| e.from == "One"));
        // Layers go down from the start; the processor sits inside its Map's box.
        let at = |id: &str| g.nodes.iter().find(|n| n.id == id).unwrap().clone();
        assert!(at("Check").y > at(START).y && at("Work").y > at("Check").y && at(END).y > at("Each").y);
        let (each, one) = (at("Each"), at("One"));
        assert!(
            one.x >= each.x && one.x + one.w <= each.x + each.w && one.y > each.y && one.y + one.h <= each.y + each.h
        );
        assert_eq!(one.group.as_deref(), Some("Each#1"));
        assert_eq!(g.groups.len(), 1);
    }

    #[test]
    fn a_hundred_states_lay_out_without_overlap() {
        let mut states = serde_json::Map::new();
        for i in 0..120 {
            let next = if i % 10 == 9 {
                json!({"Type": "Pass", "End": true})
            } else {
                json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
            };
            states.insert(format!("S{i}"), next);
        }
        states.insert(
            "Fan".into(),
            json!({"Type": "Choice", "Choices": (0..12).map(|i| json!({"Variable": "$.n", "NumericEquals": i, "Next": format!("S{}", i * 10)})).collect::<Vec<_>>(), "Default": "S0"}),
        );
        let g = graph(&machine(json!({"StartAt": "Fan", "States": states})));
        let boxes: Vec<&Node> = g.nodes.iter().collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{} and {} overlap", a.id, b.id);
            }
        }
        assert_eq!(g.nodes.len(), 123);
    }
}
