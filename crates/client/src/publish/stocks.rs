//! The seed's stock publisher (`update-stocks.rb`): every interval, a company and a price.

use std::collections::HashMap;

use rand::Rng;

/// How prices move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// A random walk per company, so the ticker looks like a market.
    Walk,
    /// The seed exactly: an integer from 0 to 99 (`rand 100`).
    Uniform,
}

/// The companies shipped with tickertape (`assets/companies.txt`).
pub fn default_companies() -> Vec<String> {
    parse_companies(include_str!("../../../../assets/companies.txt"))
}

/// One name per line; blank lines and `#` comments are skipped.
pub fn parse_companies(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

pub struct Market {
    companies: Vec<String>,
    model: Model,
    prices: HashMap<String, f64>,
}

impl Market {
    pub fn new(companies: Vec<String>, model: Model) -> Market {
        Market {
            companies,
            model,
            prices: HashMap::new(),
        }
    }

    /// The next tick: `{"name": …, "price": …}`.
    pub fn tick(&mut self, rng: &mut impl Rng) -> serde_json::Value {
        let name = self.companies[rng.random_range(0..self.companies.len())].clone();
        let price = match self.model {
            Model::Uniform => serde_json::json!(rng.random_range(0..100u32)),
            Model::Walk => {
                let p = self
                    .prices
                    .entry(name.clone())
                    .or_insert_with(|| rng.random_range(20.0..400.0));
                *p = (*p * (1.0 + rng.random_range(-0.02..0.02))).max(1.0);
                serde_json::json!((*p * 100.0).round() / 100.0)
            }
        };
        serde_json::json!({ "name": name, "price": price })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks() {
        let mut rng = rand::rng();
        let mut uniform = Market::new(vec!["A".into()], Model::Uniform);
        for _ in 0..100 {
            let t = uniform.tick(&mut rng);
            let p = t["price"].as_u64().unwrap();
            assert!(p < 100 && t["name"] == "A");
        }
        let mut walk = Market::new(default_companies(), Model::Walk);
        let mut last: HashMap<String, f64> = HashMap::new();
        for _ in 0..500 {
            let t = walk.tick(&mut rng);
            let (name, price) = (
                t["name"].as_str().unwrap().to_owned(),
                t["price"].as_f64().unwrap(),
            );
            if let Some(prev) = last.insert(name, price) {
                assert!((price / prev - 1.0).abs() <= 0.021, "{prev} -> {price}");
            }
        }
        assert!(default_companies().len() >= 10);
        assert_eq!(parse_companies("# c\nA\n\n B \n"), vec!["A", "B"]);
    }
}
