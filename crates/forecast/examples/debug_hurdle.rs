use vitalcore_forecast::synthetic::{SyntheticGrid, synthetic_grid};
use vitalcore_forecast::{Features, Target, hurdle};
fn main() {
    let panel = synthetic_grid(SyntheticGrid { rows: 100, cols: 100, months: 360, ..SyntheticGrid::africa() });
    let f = Features::build(&panel, Target::Fatalities);
    let fit = hurdle::fit(&f, &panel.fatalities, panel.n_units(), 290, 1, 120);
    println!("{:?}\n{:?}\nscale {} rows {} res {}", fit.logit, fit.size, fit.scale, fit.train_rows, fit.residuals.len());
    println!("{:?}", f.names);
}
