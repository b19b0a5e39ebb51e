use vitalcore_framework::{Framework, FrameworkError};

const SEVEN: [&str; 7] = ["economic", "food", "health", "environmental", "personal", "community", "political"];

#[test]
fn built_in_framework_has_the_seven_undp_dimensions_and_five_principles() {
    let fw = Framework::built_in();
    let ids: Vec<&str> = fw.dimension_ids().collect();
    assert_eq!(ids, SEVEN);
    assert_eq!(fw.principles.len(), 5);
    assert!(fw.is_theme("conflict_related_sexual_violence"));
    assert_eq!(fw.label("food", "fr"), "Sécurité alimentaire");
    // Unknown language falls back to English.
    assert_eq!(fw.label("food", "xx"), "Food security");
}

#[test]
fn ucdp_one_sided_violence_is_protection_of_civilians() {
    let fw = Framework::built_in();
    let tags = fw.tag_ucdp(3, 0);
    assert_eq!(tags.dimensions, ["personal"]);
    assert!(tags.themes.contains(&"protection_of_civilians".to_string()));
    let battle = fw.tag_ucdp(1, 0);
    assert!(battle.themes.is_empty());
    let battle_with_civilian_deaths = fw.tag_ucdp(1, 2);
    assert!(battle_with_civilian_deaths.themes.contains(&"protection_of_civilians".to_string()));
    assert!(battle_with_civilian_deaths.severity > battle.severity);
}

#[test]
fn acled_every_schema_maps_and_specific_rows_win() {
    let fw = Framework::built_in();
    let sv = fw.tag_acled("Violence against civilians", Some("Sexual violence"), false);
    assert!(sv.themes.contains(&"conflict_related_sexual_violence".to_string()));
    let attack = fw.tag_acled("Violence against civilians", Some("Attack"), false);
    assert!(!attack.themes.contains(&"conflict_related_sexual_violence".to_string()));
    // 2016 and 2017-2018 spellings
    for old in ["Riots/Protests", "Battle-No change of territory", "Remote violence", "Strategic development"] {
        let t = fw.tag_acled(old, None, false);
        assert!(!t.rule.starts_with("unmapped"), "{old}: {}", t.rule);
    }
    assert!(fw.tag_acled("battles", Some("armed clash"), false).dimensions.contains(&"personal".into()));
    assert!(fw.tag_acled("Alien invasion", None, false).rule.starts_with("unmapped"));
    let looting = fw.tag_acled("Strategic developments", Some("Looting/property destruction"), false);
    assert_eq!(looting.dimensions, ["economic", "food"]);
}

#[test]
fn hxl_most_specific_attribute_rule_wins() {
    let fw = Framework::built_in();
    let t = fw.tag_hxl("#affected", &["+infected", "+confirmed"]).unwrap();
    assert_eq!(t.dimensions, ["health"]);
    assert!(fw.tag_hxl("#affected", &["+killed", "+total"]).unwrap().dimensions.contains(&"personal".into()));
    assert!(fw.tag_hxl("#org", &[]).is_none());
}

fn with(replace: &str, by: &str) -> Result<Framework, FrameworkError> {
    let text = include_str!("../../data/framework.toml");
    assert!(text.contains(replace), "fixture text must exist: {replace}");
    Framework::from_toml(&text.replacen(replace, by, 1))
}

#[test]
fn invalid_framework_files_say_which_key_to_fix() {
    let err = with("dimensions = [\"economic\", \"food\"]", "dimensions = [\"economy\", \"food\"]").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("mappings.acled") && msg.contains("`economy` is not a dimension id"), "{msg}");

    let err = with("severity = 4\nwhy = \"One-sided", "severity = 9\nwhy = \"One-sided").unwrap_err();
    assert!(err.to_string().contains("level 9 is not on scales.severity"), "{err}");

    let err = with("id = \"food\"", "id = \"economic\"").unwrap_err();
    assert!(err.to_string().contains("defined twice"), "{err}");

    let err = with("threats = \"hunger", "threatz = \"hunger").unwrap_err();
    assert!(err.to_string().contains("threatz"), "{err}");

    let err = Framework::from_toml("[framework\nname=1").unwrap_err();
    assert!(matches!(err, FrameworkError::Syntax(_)));
}

#[test]
fn lexicon_keys_must_name_known_categories() {
    let text = format!("{}\n[lexicon.fod]\nen = [\"hunger\"]\n", include_str!("../../data/framework.toml"));
    let err = Framework::from_toml(&text).unwrap_err();
    assert!(err.to_string().contains("lexicon.fod"), "{err}");
}

#[test]
fn bands_cover_the_score_range() {
    let fw = Framework::built_in();
    assert_eq!(fw.band(0.0).id, "very_low");
    assert_eq!(fw.band(5.0).id, "high");
    assert_eq!(fw.band(10.0).id, "very_high");
}

#[test]
fn mandate_tables_are_built_in_and_point_at_framework_ids() {
    let fw = Framework::built_in();
    for id in [
        "protection_of_civilians",
        "sexual_violence",
        "children",
        "human_rights",
        "public_health",
        "humanitarian_relief",
        "economic_development",
        "natural_resources",
        "elections",
        "ddr",
        "security_sector_reform",
        "rule_of_law",
        "ceasefire_monitoring",
        "state_authority",
        "stabilization",
        "refugees_idps",
        "demining",
        "arms_embargo",
        "cultural_heritage",
    ] {
        let task = fw.mandate_task(id).unwrap_or_else(|| panic!("no task {id}"));
        assert!(!task.why.is_empty() && !task.triggers.is_empty(), "{id}");
    }
    assert_eq!(fw.mandate_task("public_health").unwrap().dimensions, ["health"]);
    assert!(fw.mandate_verbs.iter().any(|v| v.id == "decides" && v.gives_tasks));
    assert!(fw.missions.iter().any(|m| m.id == "MINUSMA" && m.country == "MLI"));
    // A user's framework file without the mandate tables gets the built-in ones.
    let own = Framework::from_toml(&format!(
        "{}\n{}",
        vitalcore_framework::BUILTIN_TAXONOMY,
        vitalcore_framework::BUILTIN_LEXICON
    ))
    .unwrap();
    assert_eq!(own.mandate_tasks.len(), fw.mandate_tasks.len());
}

#[test]
fn invalid_mandate_tables_say_which_key_to_fix() {
    let base = format!("{}\n{}", vitalcore_framework::BUILTIN_TAXONOMY, vitalcore_framework::BUILTIN_MANDATES);
    let bad = base.replacen("dimensions = [\"health\"]\nthemes = []", "dimensions = [\"medical\"]\nthemes = []", 1);
    assert_ne!(bad, base, "fixture text must exist");
    let err = Framework::from_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("mandate_tasks.public_health.dimensions") && err.contains("`medical`"), "{err}");
    let bad = base.replacen("themes = [\"cultural_property_protection\"]", "themes = [\"heritage\"]", 1);
    let err = Framework::from_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("mandate_tasks.cultural_heritage.themes"), "{err}");
    let bad = base.replacen("id = \"elections\"", "id = \"ddr\"", 1);
    let err = Framework::from_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("defined twice"), "{err}");
    let bad = base.replacen("triggers = [\"election\",", "triggers = [\"--\",", 1);
    let err = Framework::from_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("mandate_tasks.elections.triggers"), "{err}");
}
