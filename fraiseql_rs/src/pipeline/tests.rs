//! Rust-only logic: the scanner's grammar, projection and the response layout.
//! Behaviour seen from Python is tested in tests/unit/test_pipeline*.py.

use super::plan::{Plan, SpecEntry};
use super::project::validate_document;
use super::response::{build_response, Root, Row};
use super::scanner::{JsonErrorKind, MAX_DEPTH};
use super::error::PipelineError;

fn field(out_key: &str, source_key: &str, sub: Option<Vec<SpecEntry>>) -> SpecEntry {
    SpecEntry::Field { out_key: out_key.into(), source_key: source_key.into(), sub }
}

fn typename(out_key: &str, type_name: &str) -> SpecEntry {
    SpecEntry::Typename { out_key: out_key.into(), type_name: type_name.into() }
}

fn respond(plan: &Plan, rows: &[&str], single: bool, nullable: bool) -> String {
    let rows: Vec<Row<&str>> = rows.iter().map(|r| Row::Text(*r)).collect();
    let roots = [Root::Rows { out_key: "items", plan, rows: &rows, single, nullable }];
    let body = build_response::<&str>(&roots, &[]).expect("valid inputs");
    String::from_utf8(body).expect("UTF-8 output")
}

#[test]
fn accepts_valid_documents() {
    for text in [
        "{}", "[]", " null ", "true", "false", "0", "-0", "1.5e+10", "-12.0E-3",
        "123456789012345678901234567890", r#""a\"\\\/\b\f\n\r\tA""#, "\"é😀\"",
        r#"{"a":[1,{"b":null}],"c":"d"}"#, "[[[]]]",
    ] {
        assert_eq!(validate_document(text.as_bytes()), Ok(()), "{text}");
    }
}

#[test]
fn rejects_invalid_documents() {
    let cases = [
        ("", JsonErrorKind::UnexpectedEnd),
        ("{", JsonErrorKind::UnexpectedEnd),
        ("{\"a\":1", JsonErrorKind::UnexpectedEnd),
        ("{\"a\" 1}", JsonErrorKind::UnexpectedByte),
        ("[1,]", JsonErrorKind::UnexpectedByte),
        ("{\"a\":1,}", JsonErrorKind::UnexpectedByte),
        ("01", JsonErrorKind::TrailingData),
        ("1.", JsonErrorKind::InvalidNumber),
        ("1e", JsonErrorKind::InvalidNumber),
        ("-", JsonErrorKind::InvalidNumber),
        ("NaN", JsonErrorKind::UnexpectedByte),
        ("tru", JsonErrorKind::UnexpectedByte),
        ("\"a\u{1}b\"", JsonErrorKind::ControlCharacter),
        (r#""\x""#, JsonErrorKind::InvalidEscape),
        (r#""\u12g4""#, JsonErrorKind::InvalidEscape),
        ("{} {}", JsonErrorKind::TrailingData),
        ("[1}", JsonErrorKind::UnexpectedByte),
    ];
    for (text, kind) in cases {
        assert_eq!(validate_document(text.as_bytes()).map_err(|e| e.kind), Err(kind), "{text:?}");
    }
}

#[test]
fn string_scan_finds_specials_in_every_word_position() {
    for prefix in 0..40 {
        let plain = "x".repeat(prefix);
        let valid = |text: String| validate_document(text.as_bytes());
        assert_eq!(valid(format!("\"{plain}\"")), Ok(()));
        assert!(valid(format!("\"{plain}\n\"")).is_err());
        assert_eq!(valid(format!("\"{plain}\\\"\"")), Ok(()));
        assert!(valid(format!("\"{plain}")).is_err());
    }
}

#[test]
fn nesting_is_limited_without_recursion() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(validate_document(ok.as_bytes()), Ok(()));
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_eq!(validate_document(deep.as_bytes()).map_err(|e| e.kind), Err(JsonErrorKind::TooDeep));
    let huge = "[".repeat(1_000_000);
    assert!(validate_document(huge.as_bytes()).is_err());
}

#[test]
fn projects_renames_aliases_and_nulls_missing_keys() {
    let plan = Plan::compile(&[
        field("id", "id", None),
        field("createdAt", "created_at", None),
        field("again", "id", None),
        field("missing", "nope", None),
        typename("__typename", "Post"),
    ])
    .expect("plan");
    let body = respond(&plan, &[r#"{"id": 1e400, "created_at": "x\u00e9", "other": [1]}"#], false, false);
    assert_eq!(
        body,
        r#"{"data":{"items":[{"id":1e400,"createdAt":"x\u00e9","again":1e400,"missing":null,"__typename":"Post"}]}}"#
    );
}

#[test]
fn projects_nested_objects_and_lists_at_any_depth() {
    let author = vec![field("name", "name", None)];
    let plan = Plan::compile(&[
        field("author", "author", Some(author.clone_spec())),
        field("comments", "comments", Some(vec![field("author", "author", Some(author))])),
    ])
    .expect("plan");
    let row = r#"{"comments":[{"author":{"name":"a","x":1}},null,[{"author":null}]],"author":null}"#;
    assert_eq!(
        respond(&plan, &[row], true, true),
        r#"{"data":{"items":{"author":null,"comments":[{"author":{"name":"a"}},null,[{"author":null}]]}}}"#
    );
}

#[test]
fn last_duplicate_key_wins_and_escaped_keys_match() {
    let plan = Plan::compile(&[field("a", "a", None), field("snowman", "\u{2603}", None)]).expect("plan");
    let row = r#"{"a":1,"\u0061":2,"\u2603":3,"\ud800":4}"#;
    assert_eq!(respond(&plan, &[row], true, true), r#"{"data":{"items":{"a":2,"snowman":3}}}"#);
}

#[test]
fn invalid_row_nulls_the_root_and_reports_it() {
    let plan = Plan::compile(&[field("id", "id", None)]).expect("plan");
    let body = respond(&plan, &[r#"{"id":1}"#, r#"{"id":"#], false, true);
    assert_eq!(
        body,
        r#"{"data":{"items":null},"errors":[{"message":"The database returned invalid JSON for field 'items' (row 1).","path":["items"],"extensions":{"code":"INVALID_DB_JSON"}}]}"#
    );
    let body = respond(&plan, &["{} x"], true, false);
    assert!(body.starts_with(r#"{"data":null,"errors":[{"#), "{body}");
}

#[test]
fn rejects_duplicate_out_keys() {
    let result = Plan::compile(&[field("a", "a", None), typename("a", "T")]);
    assert!(matches!(result, Err(PipelineError::InvalidPlan(_))));
}

#[test]
fn raw_roots_and_errors_are_checked_and_inserted() {
    let plan = Plan::compile(&[]).expect("plan");
    let rows = [Row::Text("{\"a\":1}"), Row::Null];
    let roots = [
        Root::Raw { out_key: "count", json: "3" },
        Root::Rows { out_key: "items", plan: &plan, rows: &rows, single: false, nullable: true },
    ];
    let body = build_response(&roots, &["{\"message\":\"m\"}"]).expect("valid");
    assert_eq!(
        String::from_utf8(body).expect("UTF-8"),
        r#"{"data":{"count":3,"items":[{},null]},"errors":[{"message":"m"}]}"#
    );
    let bad_raw: [Root<'_, &str>; 1] = [Root::Raw { out_key: "x", json: "{" }];
    assert!(matches!(build_response(&bad_raw, &[]), Err(PipelineError::InvalidRawJson { .. })));
    let no_roots: [Root<'_, &str>; 0] = [];
    assert!(matches!(build_response(&no_roots, &["[]"]), Err(PipelineError::InvalidErrorJson { index: 0 })));
}

trait CloneSpec {
    fn clone_spec(&self) -> Vec<SpecEntry>;
}

impl CloneSpec for Vec<SpecEntry> {
    fn clone_spec(&self) -> Vec<SpecEntry> {
        self.iter()
            .map(|entry| match entry {
                SpecEntry::Field { out_key, source_key, sub } => {
                    field(out_key, source_key, sub.as_ref().map(CloneSpec::clone_spec))
                }
                SpecEntry::Typename { out_key, type_name } => typename(out_key, type_name),
            })
            .collect()
    }
}

#[test]
fn eager_and_aliased_sub_plans_agree() {
    let name = || vec![field("name", "name", None)];
    // "author" is read by one entry (projected during the scan); "editor" by two (aliases).
    let plan = Plan::compile(&[
        field("author", "author", Some(name())),
        field("a", "editor", Some(name())),
        field("b", "editor", Some(vec![field("id", "id", None)])),
    ])
    .expect("plan");
    let row = r#"{"author":{"name":"old"},"editor":{"id":1,"name":"e"},"author":[{"name":"new","x":[{}]}]}"#;
    assert_eq!(
        respond(&plan, &[row, row], false, true),
        r#"{"data":{"items":[{"author":[{"name":"new"}],"a":{"name":"e"},"b":{"id":1}},{"author":[{"name":"new"}],"a":{"name":"e"},"b":{"id":1}}]}}"#
    );
    let broken = r#"{"author":{"name":"x"},"editor":{"id":1,"name":"e""#;
    assert!(respond(&plan, &[row, broken], false, true).contains("INVALID_DB_JSON"));
}
