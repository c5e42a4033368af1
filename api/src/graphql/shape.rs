//! Responses keep the spec's shape (DESIGN §5). async-graphql leaves a
//! field that failed out of its object altogether (and an object all of
//! whose fields failed becomes `null`), so a strict generated parser (Apollo
//! Kotlin or iOS) finds a key missing. This extension applies the spec's
//! rule instead: a failed field is `null` at its error's `path` when its
//! type is nullable, else the `null` moves up to the nearest nullable
//! parent (`data` itself at the top). Fields a caller may be refused are
//! nullable in the schema, so a refusal stays where it happened.

use std::sync::Arc;

use async_graphql::{
    Name, PathSegment, Response, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextSubscribe},
    futures_util::{StreamExt, stream::BoxStream},
    registry::Registry,
};

pub struct ShapeExtension;

impl ExtensionFactory for ShapeExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Shape)
    }
}

struct Shape;

#[async_graphql::async_trait::async_trait]
impl Extension for Shape {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        let registry = &ctx.schema_env.registry;
        keep_keys(
            response,
            &|parent, field| field_type(registry, parent, field),
            &roots(registry),
        )
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let env = ctx.schema_env.clone();
        next.run(ctx, stream)
            .map(move |response| {
                let registry = &env.registry;
                let mut roots = roots(registry);
                roots.reverse(); // the subscription root first
                keep_keys(
                    response,
                    &|parent, field| field_type(registry, parent, field),
                    &roots,
                )
            })
            .boxed()
    }
}

fn roots(registry: &Registry) -> Vec<String> {
    std::iter::once(registry.query_type.clone())
        .chain(registry.mutation_type.clone())
        .chain(registry.subscription_type.clone())
        .collect()
}

fn field_type(registry: &Registry, parent: &str, field: &str) -> Option<String> {
    registry
        .types
        .get(parent)?
        .field_by_name(field)
        .map(|f| f.ty.clone())
}

/// A field's type in SDL notation (`[User!]!`): nullable, and what one
/// level down is (a list's item, or the named type).
fn nullable(ty: &str) -> bool {
    !ty.ends_with('!')
}

fn item_of(ty: &str) -> Option<&str> {
    ty.trim_end_matches('!')
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
}

fn named(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

/// Where the `null` for an error at `path` goes: the deepest nullable
/// position on the path (`Some(empty)` is `data` itself). `None` when the
/// path does not follow the schema (an alias): then its key is kept as
/// `null` where it failed.
fn null_target<'p>(
    path: &'p [PathSegment],
    types: &dyn Fn(&str, &str) -> Option<String>,
    roots: &[String],
) -> Option<&'p [PathSegment]> {
    let PathSegment::Field(first) = path.first()? else {
        return None;
    };
    let root = roots.iter().find(|r| types(r, first).is_some())?;
    let mut parent = root.clone();
    let mut current = String::new();
    let mut deepest = 0;
    for (i, segment) in path.iter().enumerate() {
        current = match segment {
            PathSegment::Field(name) => types(&parent, name)?,
            PathSegment::Index(_) => item_of(&current)?.to_owned(),
        };
        parent = named(&current).to_owned();
        if nullable(&current) {
            deepest = i + 1;
        }
    }
    Some(&path[..deepest])
}

/// Puts every error's `null` where the spec wants it.
pub fn keep_keys(
    mut response: Response,
    types: &dyn Fn(&str, &str) -> Option<String>,
    roots: &[String],
) -> Response {
    let mut targets: Vec<Vec<PathSegment>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| {
            null_target(&e.path, types, roots)
                .unwrap_or(&e.path)
                .to_vec()
        })
        .collect();
    // A null higher up covers those below it.
    targets.sort_by_key(Vec::len);
    let mut applied: Vec<Vec<PathSegment>> = Vec::new();
    for target in targets {
        if applied.iter().any(|a| target.starts_with(a)) {
            continue;
        }
        if target.is_empty() {
            response.data = Value::Null;
        } else {
            set_null(&mut response.data, &target);
        }
        applied.push(target);
    }
    response
}

fn set_null(value: &mut Value, path: &[PathSegment]) {
    let Some((first, rest)) = path.split_first() else {
        *value = Value::Null;
        return;
    };
    match first {
        PathSegment::Field(name) => {
            // An object whose every field failed came back as `null`.
            if matches!(value, Value::Null) {
                *value = Value::Object(Default::default());
            }
            let Value::Object(map) = value else {
                return;
            };
            let entry = map.entry(Name::new(name)).or_insert(Value::Null);
            set_null(entry, rest);
        }
        PathSegment::Index(index) => {
            if let Value::List(items) = value
                && let Some(item) = items.get_mut(*index)
            {
                set_null(item, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{ServerError, value};

    fn error_at(path: Vec<PathSegment>) -> ServerError {
        let mut error = ServerError::new("refused", None);
        error.path = path;
        error
    }

    fn with(data: Value, errors: Vec<ServerError>) -> Response {
        let mut response = Response::new(data);
        response.errors = errors;
        response
    }

    /// A tiny schema: Query { me: User!, patient: Patient, list: [Item!] },
    /// Patient { id: UUID!, checkIns: Conn, carePlan: Plan, user: User! },
    /// Item { a: Int!, b: Int }.
    fn types(parent: &str, field: &str) -> Option<String> {
        let ty = match (parent, field) {
            ("Query", "me") => "User!",
            ("Query", "patient") => "Patient",
            ("Query", "list") => "[Item!]",
            ("Patient", "id") => "UUID!",
            ("Patient", "withdrawalAssessments" | "checkIns") => "Conn",
            ("Patient", "carePlan") => "Plan",
            ("Patient", "user") => "User!",
            ("Item", "a") => "Int!",
            ("Item", "b") => "Int",
            _ => return None,
        };
        Some(ty.to_owned())
    }

    fn shaped(response: Response) -> Value {
        keep_keys(response, &types, &["Query".to_owned()]).data
    }

    fn field(name: &str) -> PathSegment {
        PathSegment::Field(name.into())
    }

    #[test]
    fn a_failed_field_is_null_at_its_path() {
        let response = with(
            value!({ "me": { "displayName": "Dr" } }),
            vec![error_at(vec![field("patient")])],
        );
        assert_eq!(
            shaped(response),
            value!({ "me": { "displayName": "Dr" }, "patient": null })
        );
        let response = with(
            value!({ "patient": { "id": "p" } }),
            vec![error_at(vec![
                field("patient"),
                field("withdrawalAssessments"),
            ])],
        );
        assert_eq!(
            shaped(response),
            value!({ "patient": { "id": "p", "withdrawalAssessments": null } })
        );
    }

    #[test]
    fn an_object_whose_fields_all_failed_is_rebuilt() {
        let response = with(
            Value::Null,
            vec![
                error_at(vec![field("patient"), field("checkIns")]),
                error_at(vec![field("patient"), field("carePlan")]),
            ],
        );
        assert_eq!(
            shaped(response),
            value!({ "patient": { "checkIns": null, "carePlan": null } })
        );
        let response = with(
            value!({ "list": [{ "a": 1 }, { "a": 2 }] }),
            vec![error_at(vec![
                field("list"),
                PathSegment::Index(1),
                field("b"),
            ])],
        );
        assert_eq!(
            shaped(response),
            value!({ "list": [{ "a": 1 }, { "a": 2, "b": null }] })
        );
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
        let response = with(
            value!({ "patient": { "id": "p" } }),
            vec![error_at(vec![field("patient"), field("user")])],
        );
        assert_eq!(shaped(response), value!({ "patient": null }));
        let response = with(value!({}), vec![error_at(vec![field("me")])]);
        assert_eq!(shaped(response), Value::Null);
        // A non-null list item: the (nullable) list goes.
        let response = with(
            value!({ "list": [{ "a": 1 }] }),
            vec![error_at(vec![
                field("list"),
                PathSegment::Index(0),
                field("a"),
            ])],
        );
        assert_eq!(shaped(response), value!({ "list": null }));
    }

    #[test]
    fn errors_without_a_path_change_nothing() {
        let response = with(Value::Null, vec![ServerError::new("bad", None)]);
        assert_eq!(shaped(response), Value::Null);
    }
}
