//! Criterion benchmarks of the response pipeline on v_post-shaped rows, without Python.
//!
//! `cargo bench -p fraiseql_rs --bench pipeline`
//!
//! The crate root keeps `pipeline` private, so the folder is mounted here as a module.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

#[allow(dead_code, unused_imports)]
#[path = "../src/pipeline/mod.rs"]
mod pipeline;

use pipeline::{build_response_into, Plan, Root, Row, SpecEntry};

fn field(out_key: &str, source_key: &str, sub: Option<Vec<SpecEntry>>) -> SpecEntry {
    SpecEntry::Field { out_key: out_key.into(), source_key: source_key.into(), sub }
}

fn author_spec() -> Vec<SpecEntry> {
    vec![field("id", "id", None), field("name", "name", None), field("email", "email", None), field("createdAt", "created_at", None)]
}

/// Every field of Post, as the full-selection benchmark in benchmarks/pipeline/ uses.
fn post_spec() -> Vec<SpecEntry> {
    vec![
        SpecEntry::Typename { out_key: "__typename".into(), type_name: "Post".into() },
        field("id", "id", None),
        field("title", "title", None),
        field("body", "body", None),
        field("publishedAt", "published_at", None),
        field("tags", "tags", None),
        field("author", "author", Some(author_spec())),
        field(
            "comments",
            "comments",
            Some(vec![
                field("id", "id", None),
                field("body", "body", None),
                field("createdAt", "created_at", None),
                field("author", "author", Some(author_spec())),
            ]),
        ),
    ]
}

const WORDS: [&str; 12] =
    ["graphql", "postgres", "view", "the", "a", "latency", "café", "Zoë", "東京", "🚀", "\\\"quoted\\\"", "cache"];

/// Text of about `words` words, deterministic in `seed`, with paragraph breaks.
fn text(seed: usize, words: usize) -> String {
    let mut out = String::new();
    for index in 0..words {
        if index > 0 {
            out.push_str(if index % 48 == 0 { "\\n\\n" } else { " " });
        }
        out.push_str(WORDS[(seed * 7 + index * 13) % WORDS.len()]);
    }
    out
}

fn user(seed: usize) -> String {
    format!(
        r#"{{"id": "00000000-0000-4000-8000-{seed:012}", "name": "Zoë {seed}", "email": "user{seed}@example.com", "created_at": "2024-01-02T03:04:05.123456+00:00"}}"#
    )
}

/// One row as `jsonb::text` writes a v_post document (~3.5 KB, three comments).
fn post_row(seed: usize) -> String {
    let comments: Vec<String> = (0..3)
        .map(|c| {
            format!(
                r#"{{"id": "10000000-0000-4000-8000-{:012}", "body": "{}", "author": {}, "created_at": "2024-02-03T04:05:06.000001+00:00"}}"#,
                seed * 10 + c,
                text(seed + c, 50),
                user(seed + c + 1)
            )
        })
        .collect();
    format!(
        r#"{{"id": "20000000-0000-4000-8000-{seed:012}", "body": "{}", "tags": ["rust", "perf"], "title": "{}", "author": {}, "comments": [{}], "published_at": null}}"#,
        text(seed, 300),
        text(seed + 1, 8),
        user(seed),
        comments.join(", ")
    )
}

fn bench_build_response(c: &mut Criterion) {
    let plan = Plan::compile(&post_spec()).expect("the benchmark plan is valid");
    let mut group = c.benchmark_group("build_response");
    for count in [1usize, 100, 1000] {
        let texts: Vec<String> = (0..count).map(post_row).collect();
        let rows: Vec<Row<&str>> = texts.iter().map(|t| Row::Text(t.as_str())).collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        // One output buffer across iterations, as the Python boundary keeps one per thread.
        let mut out = Vec::new();
        group.bench_function(format!("{count}_rows"), |b| {
            b.iter(|| {
                let roots = [Root::Rows { out_key: "posts", plan: &plan, rows: &rows, single: false, nullable: false }];
                build_response_into::<&str>(black_box(&roots), &[], &mut out).expect("valid rows");
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_build_response);
criterion_main!(benches);
