//! The XLSForm a KoBo/ODK export was collected with: which questions exist,
//! which choice list each select question uses, and the choices' labels per
//! language. Used to check a mapping against the form and to turn answer
//! codes (`inadequate_quantity`) into the words the respondent chose
//! ("inadequate quantity to meet basic household's needs").
//!
//! Reads the `survey` and `choices` sheets of the XLSForm workbook, or the
//! same two sheets saved as CSV.

use std::collections::{BTreeMap, HashMap, HashSet};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum XlsFormError {
    #[error("XLSForm: {0}")]
    Unreadable(String),
    #[error("XLSForm, sheet `{sheet}`: no `{column}` column")]
    MissingColumn { sheet: &'static str, column: &'static str },
}

/// Questions, their choice lists, and choice labels by language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormLabels {
    questions: HashSet<String>,
    /// Question name -> choice list of a select_one / select_multiple question.
    lists: HashMap<String, String>,
    /// (list, code) -> labels by language code (`en`, `ar`, or `default`).
    choices: HashMap<(String, String), BTreeMap<String, String>>,
}

type Sheet = Vec<Vec<String>>;

impl FormLabels {
    /// From the `survey` and `choices` sheets saved as CSV.
    pub fn from_csv(survey: &[u8], choices: &[u8]) -> Result<FormLabels, XlsFormError> {
        FormLabels::from_sheets(&read_csv(survey)?, &read_csv(choices)?)
    }

    /// From an XLSForm workbook (`.xlsx`).
    pub fn from_xlsx(data: &[u8]) -> Result<FormLabels, XlsFormError> {
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(data))
            .map_err(|e| XlsFormError::Unreadable(format!("not a readable XLSX workbook: {e}")))?;
        let mut sheet = |name: &str| -> Result<Sheet, XlsFormError> {
            let range =
                book.worksheet_range(name).map_err(|e| XlsFormError::Unreadable(format!("sheet `{name}`: {e}")))?;
            Ok(range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect())
        };
        let survey = sheet("survey")?;
        let choices = sheet("choices")?;
        FormLabels::from_sheets(&survey, &choices)
    }

    fn from_sheets(survey: &Sheet, choices: &Sheet) -> Result<FormLabels, XlsFormError> {
        let mut form = FormLabels::default();
        let header = survey.first().ok_or(XlsFormError::MissingColumn { sheet: "survey", column: "type" })?;
        let col = |h: &[String], name: &'static str, sheet: &'static str| {
            h.iter().position(|c| c.trim() == name).ok_or(XlsFormError::MissingColumn { sheet, column: name })
        };
        let (type_col, name_col) = (col(header, "type", "survey")?, col(header, "name", "survey")?);
        for row in &survey[1..] {
            let name = row.get(name_col).map(|s| s.trim()).unwrap_or("");
            if name.is_empty() {
                continue;
            }
            form.questions.insert(name.to_string());
            let kind = row.get(type_col).map(|s| s.trim()).unwrap_or("");
            let mut words = kind.split_whitespace();
            if let (Some("select_one" | "select_multiple"), Some(list)) = (words.next(), words.next()) {
                form.lists.insert(name.to_string(), list.to_string());
            }
        }
        let header = choices.first().ok_or(XlsFormError::MissingColumn { sheet: "choices", column: "list_name" })?;
        let list_col = col(header, "list_name", "choices").or_else(|_| col(header, "list name", "choices"))?;
        let name_col = col(header, "name", "choices")?;
        let label_cols: Vec<(usize, String)> =
            header.iter().enumerate().filter_map(|(i, h)| label_language(h).map(|lang| (i, lang))).collect();
        for row in &choices[1..] {
            let (list, code) = (row.get(list_col).map(|s| s.trim()), row.get(name_col).map(|s| s.trim()));
            let (Some(list), Some(code)) = (list, code) else { continue };
            if list.is_empty() || code.is_empty() {
                continue;
            }
            let labels: BTreeMap<String, String> = label_cols
                .iter()
                .filter_map(|(i, lang)| {
                    let l = row.get(*i)?.trim();
                    (!l.is_empty()).then(|| (lang.clone(), l.to_string()))
                })
                .collect();
            form.choices.insert((list.to_string(), code.to_string()), labels);
        }
        Ok(form)
    }

    pub fn has_question(&self, name: &str) -> bool {
        self.questions.contains(name)
    }

    pub fn question_count(&self) -> usize {
        self.questions.len()
    }

    pub fn choice_count(&self) -> usize {
        self.choices.len()
    }

    /// Label of one answer code of a select question in `lang` (falling back
    /// to English, then to the form's default label).
    pub fn label(&self, question: &str, code: &str, lang: &str) -> Option<&str> {
        let list = self.lists.get(question)?;
        let labels = self.choices.get(&(list.clone(), code.to_string()))?;
        labels.get(lang).or_else(|| labels.get("en")).or_else(|| labels.get("default")).map(String::as_str)
    }

    /// An answer as words: a select_one code becomes its label, a
    /// select_multiple answer ("a b") its labels joined with "; ". Answers to
    /// other questions, and codes without a label, are kept as written.
    pub fn answer_text(&self, question: &str, raw: &str, lang: &str) -> String {
        if !self.lists.contains_key(question) {
            return raw.to_string();
        }
        if let Some(l) = self.label(question, raw.trim(), lang) {
            return l.trim_end_matches(';').to_string();
        }
        let parts: Vec<String> = raw
            .split_whitespace()
            .map(|code| {
                self.label(question, code, lang)
                    .map(|l| l.trim_end_matches(';').to_string())
                    .unwrap_or_else(|| code.to_string())
            })
            .collect();
        parts.join("; ")
    }
}

/// Language code of a label column: `label::English (en)` -> `en`,
/// `label::French` -> `fr`, `label` -> `default`.
fn label_language(header: &str) -> Option<String> {
    let h = header.trim();
    if h == "label" {
        return Some("default".into());
    }
    let rest = h.strip_prefix("label::").or_else(|| h.strip_prefix("label:"))?;
    if let (Some(open), Some(close)) = (rest.rfind('('), rest.rfind(')'))
        && close > open + 1
    {
        return Some(rest[open + 1..close].trim().to_lowercase());
    }
    let name = rest.trim().to_lowercase();
    let code = match name.as_str() {
        "english" => "en",
        "french" | "français" | "francais" => "fr",
        "arabic" | "العربية" => "ar",
        "spanish" | "español" | "espanol" => "es",
        "portuguese" | "português" => "pt",
        "swahili" | "kiswahili" => "sw",
        other => other,
    };
    Some(code.to_string())
}

fn read_csv(data: &[u8]) -> Result<Sheet, XlsFormError> {
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(crate::kobo::sniff_delimiter(data))
        .from_reader(data);
    reader
        .records()
        .map(|r| {
            r.map(|rec| rec.iter().map(str::to_string).collect()).map_err(|e| XlsFormError::Unreadable(e.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_columns() {
        assert_eq!(label_language("label::English (en)").as_deref(), Some("en"));
        assert_eq!(label_language("label::Arabic (ar)").as_deref(), Some("ar"));
        assert_eq!(label_language("label::Français").as_deref(), Some("fr"));
        assert_eq!(label_language("label").as_deref(), Some("default"));
        assert_eq!(label_language("hint::English (en)"), None);
    }

    #[test]
    fn select_answers_become_labels() {
        let survey = "type,name,label::English (en)\nselect_one yn,q1,Q1\nselect_multiple why,q2,Q2\ntext,q3,Q3\n";
        let choices = "list_name,name,label::English (en),label::French (fr)\nyn,yes,Yes,Oui\nwhy,a,Reason A;,Raison A\nwhy,b,Reason B,\n";
        let f = FormLabels::from_csv(survey.as_bytes(), choices.as_bytes()).unwrap();
        assert!(f.has_question("q3") && !f.has_question("q4"));
        assert_eq!(f.answer_text("q1", "yes", "fr"), "Oui");
        assert_eq!(f.answer_text("q2", "a b", "en"), "Reason A; Reason B");
        assert_eq!(f.answer_text("q2", "b", "fr"), "Reason B", "falls back to English");
        assert_eq!(f.answer_text("q3", "free text", "en"), "free text");
        assert_eq!(f.answer_text("q1", "maybe", "en"), "maybe");
    }
}
