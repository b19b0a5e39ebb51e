//! The index tree as data: TOML in, a validated [`Tree`] out.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::error::Error;
use crate::expr::Expr;

/// A composite index: declared inputs, the nodes computed from them, the
/// root score and the named components worth reporting.
#[derive(Debug, Clone)]
pub struct Tree {
    pub name: String,
    pub root: String,
    pub outputs: Vec<String>,
    pub inputs: Vec<InputSpec>,
    pub nodes: Vec<Node>,
    pub(crate) by_id: HashMap<String, usize>,
    pub(crate) input_ids: HashSet<String>,
    /// Node indices in an order where every node comes after what it uses.
    pub(crate) order: Vec<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub unit: String,
    /// An HXL hashtag (with attributes) that also names this input in a CSV's tag row.
    #[serde(default)]
    pub hxl: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
    /// Decimal places the value is rounded to (Excel-style), if any.
    pub decimals: Option<u32>,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Min-max scaling of a raw value to 0-10.
    Scale {
        input: Expr,
        log10: bool,
        min: f64,
        max: f64,
        invert: bool,
        when_zero: Option<f64>,
        when_missing: Option<f64>,
        /// Replaces the linear interpolation between the bounds (variable `x`).
        inner: Option<Expr>,
    },
    Aggregate {
        method: Aggregation,
        children: Vec<String>,
        weights: Vec<f64>,
        when_all_missing: Option<f64>,
        zero_to: Option<f64>,
        /// Missing as soon as one child is missing (instead of skipping it).
        require_all: bool,
    },
    Expr {
        expr: Expr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Weighted arithmetic mean of the present children.
    Mean,
    /// Weighted geometric mean of the present children.
    GeometricMean,
    /// INFORM: `(10 - GEOMEAN((10-x)/10*9+1, ...)) / 9 * 10`.
    InformGeometric,
}

impl Tree {
    /// The INFORM Risk Index 2023 tree (JRC methodology as implemented in the
    /// official 2023 workbook v0.6.5), built in.
    pub fn inform_2023() -> Tree {
        Tree::from_toml(include_str!("../data/inform-risk-2023.toml"), "inform-risk-2023.toml (built in)")
            .expect("the built-in INFORM tree is valid")
    }

    /// The default subnational tree: hazard supplied by the caller,
    /// vulnerability and lack of coping capacity from area indicators.
    pub fn local_default() -> Tree {
        Tree::from_toml(include_str!("../data/local-risk.toml"), "local-risk.toml (built in)")
            .expect("the built-in local tree is valid")
    }

    pub fn from_path(path: &std::path::Path) -> Result<Tree, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Tree::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates a tree. Errors name the node and key to fix.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Tree, Error> {
        let file: TreeFile = toml::from_str(text)
            .map_err(|e| Error::TreeSyntax { source_name: source_name.to_string(), message: e.to_string() })?;
        build(file, source_name)
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.by_id.get(id).map(|&i| &self.nodes[i])
    }

    pub fn is_input(&self, id: &str) -> bool {
        self.input_ids.contains(id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeFile {
    index: IndexSection,
    #[serde(default)]
    input: Vec<InputSpec>,
    #[serde(default)]
    node: Vec<NodeSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexSection {
    name: String,
    root: String,
    #[serde(default)]
    outputs: Vec<String>,
    /// Default rounding of scale and aggregate nodes.
    #[serde(default)]
    decimals: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    id: String,
    #[serde(default)]
    label: String,
    kind: KindName,
    input: Option<String>,
    #[serde(default)]
    log10: bool,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    invert: bool,
    when_zero: Option<f64>,
    when_missing: Option<f64>,
    inner: Option<String>,
    method: Option<Aggregation>,
    children: Option<Vec<String>>,
    weights: Option<Vec<f64>>,
    when_all_missing: Option<f64>,
    zero_to: Option<f64>,
    #[serde(default)]
    require_all: bool,
    expr: Option<String>,
    decimals: Option<u32>,
    #[serde(default)]
    exact: bool,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Scale,
    Aggregate,
    Expr,
}

struct Ctx<'a> {
    source: &'a str,
}

impl Ctx<'_> {
    fn node_err(&self, node: &str, key: &str, message: impl Into<String>) -> Error {
        Error::TreeNode {
            source_name: self.source.to_string(),
            node: node.to_string(),
            key: key.to_string(),
            message: message.into(),
        }
    }
    fn structure_err(&self, message: impl Into<String>) -> Error {
        Error::TreeStructure { source_name: self.source.to_string(), message: message.into() }
    }
}

fn build(file: TreeFile, source: &str) -> Result<Tree, Error> {
    let ctx = Ctx { source };
    let mut input_ids = HashSet::new();
    for input in &file.input {
        if !input_ids.insert(input.id.clone()) {
            return Err(ctx.structure_err(format!("[[input]] id \"{}\" is declared twice; remove one", input.id)));
        }
    }
    let mut by_id = HashMap::new();
    let mut nodes = Vec::with_capacity(file.node.len());
    for spec in file.node {
        if input_ids.contains(&spec.id) {
            return Err(ctx.node_err(&spec.id, "id", "this id is also an [[input]] id; give the node another id"));
        }
        if by_id.insert(spec.id.clone(), nodes.len()).is_some() {
            return Err(ctx.node_err(&spec.id, "id", "two [[node]] entries have this id; rename one"));
        }
        nodes.push(build_node(&ctx, spec, file.index.decimals)?);
    }
    let mut tree = Tree {
        name: file.index.name,
        root: file.index.root,
        outputs: file.index.outputs,
        inputs: file.input,
        nodes,
        by_id,
        input_ids,
        order: Vec::new(),
    };
    check_references(&ctx, &tree)?;
    tree.order = evaluation_order(&ctx, &tree)?;
    Ok(tree)
}

fn build_node(ctx: &Ctx, s: NodeSpec, default_decimals: Option<u32>) -> Result<Node, Error> {
    let parse = |key: &str, text: &str| {
        Expr::parse(text).map_err(|e| ctx.node_err(&s.id, key, format!("cannot read the expression \"{text}\": {e}")))
    };
    let need = |key: &str, present: bool| {
        if present {
            Ok(())
        } else {
            Err(ctx.node_err(&s.id, key, format!("a node of kind \"{}\" needs `{key}`", kind_name(s.kind))))
        }
    };
    let misplaced = misplaced_keys(&s);
    if let Some(key) = misplaced.first() {
        return Err(ctx.node_err(
            &s.id,
            key,
            format!("`{key}` has no meaning for a node of kind \"{}\"; remove it or change `kind`", kind_name(s.kind)),
        ));
    }
    let kind = match s.kind {
        KindName::Scale => {
            need("input", s.input.is_some())?;
            need("min", s.min.is_some())?;
            need("max", s.max.is_some())?;
            let (min, max) = (s.min.unwrap_or_default(), s.max.unwrap_or_default());
            if min >= max {
                return Err(ctx.node_err(&s.id, "min", format!("min ({min}) must be below max ({max}); swap them and set `invert = true` if high values should score low")));
            }
            NodeKind::Scale {
                input: parse("input", s.input.as_deref().unwrap_or_default())?,
                log10: s.log10,
                min,
                max,
                invert: s.invert,
                when_zero: s.when_zero,
                when_missing: s.when_missing,
                inner: s.inner.as_deref().map(|t| parse("inner", t)).transpose()?,
            }
        }
        KindName::Aggregate => {
            need("method", s.method.is_some())?;
            need("children", s.children.as_ref().is_some_and(|c| !c.is_empty()))?;
            let children = s.children.unwrap_or_default();
            let weights = match s.weights {
                Some(w) if w.len() != children.len() => {
                    return Err(ctx.node_err(
                        &s.id,
                        "weights",
                        format!("{} weights for {} children; give one weight per child", w.len(), children.len()),
                    ));
                }
                Some(w) if w.iter().any(|&x| x.is_nan() || x <= 0.0) => {
                    return Err(ctx.node_err(&s.id, "weights", "weights must be positive numbers"));
                }
                Some(w) => w,
                None => vec![1.0; children.len()],
            };
            NodeKind::Aggregate {
                method: s.method.unwrap_or(Aggregation::Mean),
                children,
                weights,
                when_all_missing: s.when_all_missing,
                zero_to: s.zero_to,
                require_all: s.require_all,
            }
        }
        KindName::Expr => {
            need("expr", s.expr.is_some())?;
            NodeKind::Expr { expr: parse("expr", s.expr.as_deref().unwrap_or_default())? }
        }
    };
    let decimals =
        if s.exact { None } else { s.decimals.or(if s.kind == KindName::Expr { None } else { default_decimals }) };
    Ok(Node { id: s.id, label: s.label, kind, decimals })
}

fn kind_name(k: KindName) -> &'static str {
    match k {
        KindName::Scale => "scale",
        KindName::Aggregate => "aggregate",
        KindName::Expr => "expr",
    }
}

fn misplaced_keys(s: &NodeSpec) -> Vec<&'static str> {
    let scale = [
        ("input", s.input.is_some()),
        ("min", s.min.is_some()),
        ("max", s.max.is_some()),
        ("log10", s.log10),
        ("invert", s.invert),
        ("when_zero", s.when_zero.is_some()),
        ("when_missing", s.when_missing.is_some()),
        ("inner", s.inner.is_some()),
    ];
    let aggregate = [
        ("method", s.method.is_some()),
        ("children", s.children.is_some()),
        ("weights", s.weights.is_some()),
        ("when_all_missing", s.when_all_missing.is_some()),
        ("zero_to", s.zero_to.is_some()),
        ("require_all", s.require_all),
    ];
    let expr = [("expr", s.expr.is_some())];
    let foreign: Vec<(&'static str, bool)> = match s.kind {
        KindName::Scale => aggregate.into_iter().chain(expr).collect(),
        KindName::Aggregate => scale.into_iter().chain(expr).collect(),
        KindName::Expr => scale.into_iter().chain(aggregate).collect(),
    };
    foreign.into_iter().filter(|(_, set)| *set).map(|(k, _)| k).collect()
}

/// Names a node refers to, with the key they appear under.
pub(crate) fn references(node: &Node) -> Vec<(&'static str, &str)> {
    match &node.kind {
        NodeKind::Scale { input, .. } => input.names().into_iter().map(|n| ("input", n)).collect(),
        NodeKind::Aggregate { children, .. } => children.iter().map(|c| ("children", c.as_str())).collect(),
        NodeKind::Expr { expr } => expr.names().into_iter().map(|n| ("expr", n)).collect(),
    }
}

fn check_references(ctx: &Ctx, tree: &Tree) -> Result<(), Error> {
    for node in &tree.nodes {
        if let NodeKind::Scale { inner: Some(inner), .. } = &node.kind
            && let Some(bad) = inner.names().into_iter().find(|n| *n != "x")
        {
            return Err(ctx.node_err(
                &node.id,
                "inner",
                format!("\"{bad}\": `inner` may only use the variable `x` (the raw value)"),
            ));
        }
        for (key, name) in references(node) {
            if !tree.by_id.contains_key(name) && !tree.input_ids.contains(name) {
                return Err(ctx.node_err(
                    &node.id,
                    key,
                    format!(
                        "\"{name}\" is neither a [[node]] id nor an [[input]] id; fix the spelling or declare it{}",
                        suggestion(tree, name)
                    ),
                ));
            }
        }
    }
    for id in std::iter::once(&tree.root).chain(&tree.outputs) {
        if !tree.by_id.contains_key(id) {
            return Err(ctx.structure_err(format!(
                "[index] names \"{id}\" as root or output, but no [[node]] has that id{}",
                suggestion(tree, id)
            )));
        }
    }
    Ok(())
}

fn suggestion(tree: &Tree, name: &str) -> String {
    let lower = name.to_lowercase();
    tree.by_id
        .keys()
        .chain(tree.input_ids.iter())
        .find(|k| k.to_lowercase() == lower || (lower.len() > 3 && k.to_lowercase().contains(&lower)))
        .map(|k| format!(" (did you mean \"{k}\"?)"))
        .unwrap_or_default()
}

/// Depth-first topological order; a cycle is reported with its path.
fn evaluation_order(ctx: &Ctx, tree: &Tree) -> Result<Vec<usize>, Error> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        i: usize,
        tree: &Tree,
        marks: &mut [Mark],
        order: &mut Vec<usize>,
        path: &mut Vec<usize>,
        ctx: &Ctx,
    ) -> Result<(), Error> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Active => {
                let start = path.iter().position(|&p| p == i).unwrap_or(0);
                let cycle: Vec<&str> =
                    path[start..].iter().chain(std::iter::once(&i)).map(|&p| tree.nodes[p].id.as_str()).collect();
                return Err(ctx.structure_err(format!(
                    "nodes refer to each other in a circle: {}; break the loop",
                    cycle.join(" -> ")
                )));
            }
            Mark::New => {}
        }
        marks[i] = Mark::Active;
        path.push(i);
        for (_, name) in references(&tree.nodes[i]) {
            if let Some(&j) = tree.by_id.get(name) {
                visit(j, tree, marks, order, path, ctx)?;
            }
        }
        path.pop();
        marks[i] = Mark::Done;
        order.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; tree.nodes.len()];
    let mut order = Vec::with_capacity(tree.nodes.len());
    for i in 0..tree.nodes.len() {
        visit(i, tree, &mut marks, &mut order, &mut Vec::new(), ctx)?;
    }
    Ok(order)
}
