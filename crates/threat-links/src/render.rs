//! Graphviz DOT rendering of a network.

use crate::stats::Network;

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A DOT digraph: lagged edges are arrows, lag-0 edges are undirected lines;
/// labels carry lag, strength and q-value; pen width grows with |strength|;
/// negative associations are dashed.
pub fn to_dot(network: &Network, dimensions: &[String]) -> String {
    let mut out = format!(
        "digraph {} {{\n  label={};\n  node [shape=box, style=rounded];\n",
        quote("threat_network"),
        quote(&format!(
            "threat network: {} ({} units, {} months, {} tests)",
            network.scope, network.units, network.months, network.tested
        ))
    );
    for d in dimensions {
        out.push_str(&format!("  {};\n", quote(d)));
    }
    for e in &network.edges {
        let attrs = [
            format!("label={}", quote(&format!("lag {} r={:.2} q={:.3}", e.lag, e.strength, e.q_value))),
            format!("penwidth={:.2}", 1.0 + 5.0 * e.strength.abs()),
            if e.lag == 0 { "dir=none".to_string() } else { String::new() },
            if e.strength < 0.0 { "style=dashed".to_string() } else { String::new() },
        ];
        let attrs: Vec<&str> = attrs.iter().map(String::as_str).filter(|a| !a.is_empty()).collect();
        out.push_str(&format!("  {} -> {} [{}];\n", quote(&e.from), quote(&e.to), attrs.join(", ")));
    }
    out.push_str("}\n");
    out
}
