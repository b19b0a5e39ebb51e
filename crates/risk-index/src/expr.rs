//! A small expression language for derived indicator values, e.g.
//! `EX_FL / POP_DEN`, `min(SH_TRP_INTVN / POP, 1)`,
//! `coalesce(HDI, 0.101 * ln(GDPpp) - 0.153)`.
//!
//! Names are indicator or node ids: bare (`EX_FL`, `SP.URB.GROW`) or in
//! braces when they hold other characters (`{ODA-2}`). A missing operand
//! makes the result missing, except in `sum`, `sum0`, `coalesce` and
//! `is_missing`. Operators: `+ - * / ^`, comparisons `< <= > >= == !=`
//! (1 or 0). Functions: `ln`, `log10`, `min`, `max`, `if(c, a, b)`,
//! `sum(..)` (skips missing; all missing gives missing), `sum0(..)`
//! (all missing gives 0), `coalesce(..)`, `is_missing(x)`; the literal
//! `missing`.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Missing,
    Name(String),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Func {
    Ln,
    Log10,
    Min,
    Max,
    If,
    Sum,
    Sum0,
    Coalesce,
    IsMissing,
}

/// A syntax error with the character position where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position + 1, self.message)
    }
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
        let mut p = Parser { chars: text.chars().collect(), pos: 0 };
        let e = p.comparison()?;
        p.skip_ws();
        if p.pos < p.chars.len() {
            return Err(p.error(format!("unexpected `{}`", p.chars[p.pos])));
        }
        Ok(e)
    }

    /// Every name the expression refers to, in order of appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Name(n) => out.push(n),
            Expr::Neg(e) => e.collect_names(out),
            Expr::Bin(_, a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_names(out)),
            Expr::Num(_) | Expr::Missing => {}
        }
    }

    /// Evaluates with `lookup` giving each name's value (`None` = missing).
    /// Results that are not finite numbers (log of 0, division by 0) are missing.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        let v = match self {
            Expr::Num(x) => Some(*x),
            Expr::Missing => None,
            Expr::Name(n) => lookup(n),
            Expr::Neg(e) => e.eval(lookup).map(|x| -x),
            Expr::Bin(op, a, b) => apply(*op, a.eval(lookup)?, b.eval(lookup)?),
            Expr::Call(f, args) => call(*f, args, lookup),
        };
        v.filter(|x| x.is_finite())
    }
}

fn apply(op: Op, a: f64, b: f64) -> Option<f64> {
    let truth = |c: bool| Some(if c { 1.0 } else { 0.0 });
    match op {
        Op::Add => Some(a + b),
        Op::Sub => Some(a - b),
        Op::Mul => Some(a * b),
        Op::Div => Some(a / b),
        Op::Pow => Some(a.powf(b)),
        Op::Lt => truth(a < b),
        Op::Le => truth(a <= b),
        Op::Gt => truth(a > b),
        Op::Ge => truth(a >= b),
        Op::Eq => truth(a == b),
        Op::Ne => truth(a != b),
    }
}

fn call(f: Func, args: &[Expr], lookup: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
    let vals = || args.iter().map(|a| a.eval(lookup));
    match f {
        Func::Ln => args[0].eval(lookup).map(f64::ln),
        Func::Log10 => args[0].eval(lookup).map(f64::log10),
        Func::Min => vals().try_fold(f64::INFINITY, |m, v| v.map(|v| m.min(v))),
        Func::Max => vals().try_fold(f64::NEG_INFINITY, |m, v| v.map(|v| m.max(v))),
        Func::If => {
            if args[0].eval(lookup)? != 0.0 {
                args[1].eval(lookup)
            } else {
                args[2].eval(lookup)
            }
        }
        Func::Sum => vals().flatten().fold(None, |acc, v| Some(acc.unwrap_or(0.0) + v)),
        Func::Sum0 => Some(vals().flatten().sum()),
        Func::Coalesce => vals().flatten().next(),
        Func::IsMissing => Some(if args[0].eval(lookup).is_none() { 1.0 } else { 0.0 }),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn error(&self, message: String) -> SyntaxError {
        SyntaxError { position: self.pos, message }
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n && self.chars[self.pos..self.pos + n].iter().copied().eq(s.chars()) {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let left = self.additive()?;
        let ops = [("<=", Op::Le), (">=", Op::Ge), ("==", Op::Eq), ("!=", Op::Ne), ("<", Op::Lt), (">", Op::Gt)];
        for (s, op) in ops {
            if self.eat(s) {
                let right = self.additive()?;
                return Ok(Expr::Bin(op, Box::new(left), Box::new(right)));
            }
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some('+') => Op::Add,
                Some('-') => Op::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.multiplicative()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some('*') => Op::Mul,
                Some('/') => Op::Div,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.peek() == Some('-') {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let base = self.atom()?;
        if self.peek() == Some('^') {
            self.pos += 1;
            let exp = self.unary()?;
            return Ok(Expr::Bin(Op::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek() {
            None => Err(self.error("the expression ends too early".into())),
            Some('(') => {
                self.pos += 1;
                let e = self.comparison()?;
                if !self.eat(")") {
                    return Err(self.error("expected `)`".into()));
                }
                Ok(e)
            }
            Some('{') => {
                self.pos += 1;
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|&c| c != '}') {
                    self.pos += 1;
                }
                if self.pos >= self.chars.len() {
                    return Err(self.error("a name opened with `{` is not closed with `}`".into()));
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                self.pos += 1;
                Ok(Expr::Name(name.trim().to_string()))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => self.name_or_call(),
            Some(c) => Err(self.error(format!("unexpected `{c}`"))),
        }
    }

    fn number(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
            self.pos += 1;
        }
        if self.chars.get(self.pos).is_some_and(|c| *c == 'e' || *c == 'E') {
            self.pos += 1;
            if self.chars.get(self.pos).is_some_and(|c| *c == '-' || *c == '+') {
                self.pos += 1;
            }
            while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse()
            .map(Expr::Num)
            .map_err(|_| SyntaxError { position: start, message: format!("`{text}` is not a number") })
    }

    fn name_or_call(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if self.peek() != Some('(') {
            return Ok(if name == "missing" { Expr::Missing } else { Expr::Name(name) });
        }
        let (func, arity) = match name.as_str() {
            "ln" => (Func::Ln, Some(1)),
            "log10" => (Func::Log10, Some(1)),
            "min" => (Func::Min, None),
            "max" => (Func::Max, None),
            "if" => (Func::If, Some(3)),
            "sum" => (Func::Sum, None),
            "sum0" => (Func::Sum0, None),
            "coalesce" => (Func::Coalesce, None),
            "is_missing" => (Func::IsMissing, Some(1)),
            _ => {
                return Err(SyntaxError {
                    position: start,
                    message: format!(
                        "unknown function `{name}` (known: ln, log10, min, max, if, sum, sum0, coalesce, is_missing)"
                    ),
                });
            }
        };
        self.pos += 1;
        let mut args = Vec::new();
        if !self.eat(")") {
            loop {
                args.push(self.comparison()?);
                if self.eat(")") {
                    break;
                }
                if !self.eat(",") {
                    return Err(self.error(format!("expected `,` or `)` in the arguments of `{name}`")));
                }
            }
        }
        let ok = match arity {
            Some(n) => args.len() == n,
            None => !args.is_empty(),
        };
        if !ok {
            return Err(SyntaxError {
                position: start,
                message: format!(
                    "`{name}` takes {} argument(s), got {}",
                    arity.map_or("one or more".to_string(), |n| n.to_string()),
                    args.len()
                ),
            });
        }
        Ok(Expr::Call(func, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, vars: &[(&str, f64)]) -> Option<f64> {
        let e = Expr::parse(text).unwrap();
        e.eval(&|n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
    }

    #[test]
    fn arithmetic_and_precedence() {
        assert_eq!(eval("1 + 2 * 3", &[]), Some(7.0));
        assert_eq!(eval("(1 + 2) * 3", &[]), Some(9.0));
        assert_eq!(eval("2 ^ 3 ^ 2", &[]), Some(512.0));
        assert_eq!(eval("-2 ^ 2", &[]), Some(-4.0));
        assert_eq!(eval("10 - 4 - 3", &[]), Some(3.0));
        assert_eq!(eval("1e3 / 4", &[]), Some(250.0));
    }

    #[test]
    fn names_with_dots_and_braces() {
        assert_eq!(eval("SP.URB.GROW * 2", &[("SP.URB.GROW", 1.5)]), Some(3.0));
        assert_eq!(eval("{ODA-2} - 1", &[("ODA-2", 5.0)]), Some(4.0));
        assert_eq!(Expr::parse("a + {b-c} * d.e").unwrap().names(), vec!["a", "b-c", "d.e"]);
    }

    #[test]
    fn missing_values_propagate_except_in_aggregating_functions() {
        assert_eq!(eval("a + 1", &[]), None);
        assert_eq!(eval("sum(a, b, 2)", &[("b", 3.0)]), Some(5.0));
        assert_eq!(eval("sum(a, b)", &[]), None);
        assert_eq!(eval("sum0(a, b)", &[]), Some(0.0));
        assert_eq!(eval("coalesce(a, 0.101 * ln(b) - 0.153)", &[("b", 1.0)]), Some(-0.153));
        assert_eq!(eval("is_missing(a)", &[]), Some(1.0));
        assert_eq!(eval("if(a < 1000, missing, b)", &[("a", 10.0), ("b", 2.0)]), None);
        assert_eq!(eval("if(a < 1000, missing, b)", &[("a", 5000.0), ("b", 2.0)]), Some(2.0));
        assert_eq!(eval("log10(0)", &[]), None);
        assert_eq!(eval("min(a / b, 1)", &[("a", 3.0), ("b", 2.0)]), Some(1.0));
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = Expr::parse("1 + ").unwrap_err();
        assert!(e.message.contains("ends too early"), "{e}");
        let e = Expr::parse("foo(1)").unwrap_err();
        assert!(e.message.contains("unknown function `foo`"), "{e}");
        let e = Expr::parse("if(1, 2)").unwrap_err();
        assert!(e.message.contains("takes 3"), "{e}");
        assert!(Expr::parse("{abc").is_err());
    }
}
