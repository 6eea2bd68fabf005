//! Prophet's settings, with Prophet 1.5.0's defaults.

use serde::{Deserialize, Serialize};

/// Trend model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    #[default]
    Linear,
    /// Saturating growth towards `cap` (and `floor`), both in the series' units.
    Logistic,
    Flat,
}

/// How a component combines with the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Additive,
    Multiplicative,
}

/// y scaling before the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// y / max|y|.
    #[default]
    Absmax,
    /// (y − min) / (max − min).
    Minmax,
}

/// How the MAP problem is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// What Prophet runs: Stan's L-BFGS with CmdStan's default tolerances from Prophet's
    /// initial point, so the fit stops where Prophet's does (below 100 rows Prophet
    /// switches to Newton, which converges; so does this setting there).
    #[default]
    StanLbfgs,
    /// The optimum of the same objective. On some series Stan stops ~2 log-posterior
    /// units short of it; the optimum's forecast can then differ from Prophet's by ~1 %.
    Exact,
}

/// A built-in seasonality switch: `auto` follows Prophet's rules on history span and spacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Switch {
    #[default]
    Auto,
    On,
    Off,
}

/// A user-defined seasonality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomSeasonality {
    pub name: String,
    /// Period in days.
    pub period: f64,
    pub order: usize,
    pub prior_scale: Option<f64>,
    pub mode: Option<Mode>,
}

/// An extra regressor; its future values must be known in advance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegressorConfig {
    pub name: String,
    pub prior_scale: Option<f64>,
    /// `None` = Prophet's "auto": binary regressors are not standardised, others are.
    pub standardize: Option<bool>,
    pub mode: Option<Mode>,
}

/// Prophet's model settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProphetConfig {
    pub growth: Growth,
    /// Logistic growth: carrying capacity and floor (series units).
    pub cap: Option<f64>,
    pub floor: Option<f64>,
    pub n_changepoints: usize,
    pub changepoint_range: f64,
    pub changepoint_prior_scale: f64,
    pub seasonality_mode: Mode,
    pub seasonality_prior_scale: f64,
    pub holidays_prior_scale: f64,
    pub yearly_seasonality: Switch,
    pub weekly_seasonality: Switch,
    pub daily_seasonality: Switch,
    pub seasonalities: Vec<CustomSeasonality>,
    pub regressors: Vec<RegressorConfig>,
    pub interval_width: f64,
    pub uncertainty_samples: usize,
    pub scaling: Scaling,
    pub seed: u64,
    pub optimizer: Optimizer,
}

impl Default for ProphetConfig {
    fn default() -> Self {
        ProphetConfig {
            growth: Growth::Linear,
            cap: None,
            floor: None,
            n_changepoints: 25,
            changepoint_range: 0.8,
            changepoint_prior_scale: 0.05,
            seasonality_mode: Mode::Additive,
            seasonality_prior_scale: 10.0,
            holidays_prior_scale: 10.0,
            yearly_seasonality: Switch::Auto,
            weekly_seasonality: Switch::Auto,
            daily_seasonality: Switch::Auto,
            seasonalities: vec![],
            regressors: vec![],
            interval_width: 0.8,
            uncertainty_samples: 1000,
            scaling: Scaling::Absmax,
            seed: 0,
            optimizer: Optimizer::StanLbfgs,
        }
    }
}

impl ProphetConfig {
    /// Checks ranges; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.changepoint_range > 0.0 && self.changepoint_range <= 1.0) {
            return Err(format!(
                "changepoint_range must be in (0, 1], got {}",
                self.changepoint_range
            ));
        }
        for (v, k) in [
            (self.changepoint_prior_scale, "changepoint_prior_scale"),
            (self.seasonality_prior_scale, "seasonality_prior_scale"),
            (self.holidays_prior_scale, "holidays_prior_scale"),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("{k} must be positive, got {v}"));
            }
        }
        if !(self.interval_width > 0.0 && self.interval_width < 1.0) {
            return Err(format!(
                "interval_width must be in (0, 1), got {}",
                self.interval_width
            ));
        }
        if self.growth == Growth::Logistic && self.cap.is_none() {
            return Err("logistic growth needs `cap`".into());
        }
        if let (Some(c), Some(f)) = (self.cap, self.floor) {
            if c <= f {
                return Err(format!("cap ({c}) must be above floor ({f})"));
            }
        }
        for s in &self.seasonalities {
            if !(s.period > 0.0) || s.order == 0 {
                return Err(format!(
                    "seasonality '{}' needs a positive period and order",
                    s.name
                ));
            }
        }
        Ok(())
    }
}
