//! Scoring one unit with a [`Tree`], keeping every intermediate value.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::math::{excel_round, geometric_mean, inform_geometric, mean, min_max};
use crate::tree::{Aggregation, Node, NodeKind, Tree, references};

/// Raw indicator values of one unit, by input id. An absent id is missing.
pub type Inputs = HashMap<String, f64>;

/// The result of scoring one unit: every node's value (`None` = missing).
#[derive(Debug, Clone)]
pub struct Evaluation<'t> {
    tree: &'t Tree,
    inputs: Inputs,
    values: Vec<Option<f64>>,
}

/// One node of a score's tree, with its value and the inputs it lacked.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub id: String,
    pub label: String,
    pub how: String,
    pub value: Option<f64>,
    pub missing_inputs: Vec<String>,
    pub children: Vec<Explanation>,
}

impl Tree {
    pub fn evaluate(&self, inputs: Inputs) -> Evaluation<'_> {
        let mut values = vec![None; self.nodes.len()];
        for &i in &self.order {
            let v = {
                let lookup = |name: &str| self.lookup(name, &inputs, &values);
                node_value(&self.nodes[i], &lookup)
            };
            values[i] = v;
        }
        Evaluation { tree: self, inputs, values }
    }

    fn lookup(&self, name: &str, inputs: &Inputs, values: &[Option<f64>]) -> Option<f64> {
        match self.by_id.get(name) {
            Some(&j) => values[j],
            None => inputs.get(name).copied().filter(|x| x.is_finite()),
        }
    }
}

fn node_value(node: &Node, lookup: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    let raw = match &node.kind {
        NodeKind::Expr { expr } => expr.eval(lookup),
        NodeKind::Scale { input, log10, min, max, invert, when_zero, when_missing, inner } => {
            let x = input.eval(lookup);
            scale_value(x, *log10, *min, *max, *invert, *when_zero, *when_missing, inner.as_ref())
        }
        NodeKind::Aggregate { method, children, weights, when_all_missing, zero_to, require_all } => {
            let vals: Vec<(Option<f64>, f64)> = children.iter().zip(weights).map(|(c, &w)| (lookup(c), w)).collect();
            if *require_all && vals.iter().any(|(v, _)| v.is_none()) {
                return None;
            }
            let v = match method {
                Aggregation::Mean => mean(&vals),
                Aggregation::GeometricMean => geometric_mean(&vals),
                Aggregation::InformGeometric => inform_geometric(&vals),
            }
            .or(*when_all_missing);
            match (v, zero_to, node.decimals) {
                (Some(x), Some(z), Some(d)) if excel_round(x, d) == 0.0 => return Some(*z),
                (Some(0.0), Some(z), None) => return Some(*z),
                _ => v,
            }
        }
    };
    match node.decimals {
        Some(d) => raw.map(|x| excel_round(x, d)),
        None => raw,
    }
}

/// INFORM's indicator scaling: a zero or missing raw value may have its own
/// score; otherwise min-max to 0-10 (on log10 of the value when `log10`).
#[allow(clippy::too_many_arguments)]
fn scale_value(
    x: Option<f64>,
    log10: bool,
    min: f64,
    max: f64,
    invert: bool,
    when_zero: Option<f64>,
    when_missing: Option<f64>,
    inner: Option<&crate::expr::Expr>,
) -> Option<f64> {
    let Some(x) = x else { return when_missing };
    if x == 0.0
        && let Some(z) = when_zero
    {
        return Some(z);
    }
    let x = if log10 { x.log10() } else { x };
    if !x.is_finite() {
        return when_missing;
    }
    match inner {
        Some(inner) if x >= min && x <= max => inner.eval(&|_| Some(x)),
        _ => Some(min_max(x, min, max, invert)),
    }
}

impl<'t> Evaluation<'t> {
    pub fn value(&self, id: &str) -> Option<f64> {
        self.tree.by_id.get(id).and_then(|&i| self.values[i])
    }

    pub fn root(&self) -> Option<f64> {
        self.value(&self.tree.root)
    }

    /// Input ids used under `id` that had no value, sorted.
    pub fn missing_inputs(&self, id: &str) -> Vec<String> {
        let mut out = BTreeSet::new();
        self.collect_missing(id, &mut out);
        out.into_iter().collect()
    }

    fn collect_missing(&self, id: &str, out: &mut BTreeSet<String>) {
        if let Some(&i) = self.tree.by_id.get(id) {
            for (_, name) in references(&self.tree.nodes[i]) {
                self.collect_missing(name, out);
            }
        } else if !self.inputs.get(id).is_some_and(|x| x.is_finite()) {
            out.insert(id.to_string());
        }
    }

    /// The tree under `id` with values and missing inputs at each node.
    pub fn explain(&self, id: &str) -> Option<Explanation> {
        let &i = self.tree.by_id.get(id)?;
        let node = &self.tree.nodes[i];
        let children = references(node).into_iter().filter_map(|(_, n)| self.explain(n)).collect();
        Some(Explanation {
            id: node.id.clone(),
            label: node.label.clone(),
            how: describe(node),
            value: self.values[i],
            missing_inputs: self.missing_inputs(id),
            children,
        })
    }
}

fn describe(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scale { input, log10, min, max, invert, .. } => {
            let names = input.names().join(", ");
            format!(
                "{}{}scale {min}..{max} of {names}",
                if *invert { "inverted " } else { "" },
                if *log10 { "log10 " } else { "" }
            )
        }
        NodeKind::Aggregate { method, .. } => match method {
            Aggregation::Mean => "mean".into(),
            Aggregation::GeometricMean => "geometric mean".into(),
            Aggregation::InformGeometric => "INFORM geometric".into(),
        },
        NodeKind::Expr { expr } => format!("expression of {}", expr.names().join(", ")),
    }
}

impl Explanation {
    /// An indented text rendering, one node per line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out, 0);
        out
    }

    fn render_into(&self, out: &mut String, depth: usize) {
        let value = self.value.map_or("missing".to_string(), |v| format!("{v:.2}"));
        let label = if self.label.is_empty() { String::new() } else { format!(" ({})", self.label) };
        out.push_str(&format!("{}{}{label} = {value}  [{}]", "  ".repeat(depth), self.id, self.how));
        let direct_missing: Vec<&String> = self
            .missing_inputs
            .iter()
            .filter(|m| self.children.iter().all(|c| !c.missing_inputs.contains(m)))
            .collect();
        if !direct_missing.is_empty() {
            out.push_str(&format!(
                "  missing: {}",
                direct_missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        out.push('\n');
        for c in &self.children {
            c.render_into(out, depth + 1);
        }
    }
}
