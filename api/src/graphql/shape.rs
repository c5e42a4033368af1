//! Responses keep the spec's shape (DESIGN §5). async-graphql leaves a
//! field that failed out of its object altogether (and an object all of
//! whose fields failed becomes `null`), so a strict generated parser (Apollo
//! Kotlin or iOS) finds a key missing. This extension puts every failed
//! field back as `null` at its error's `path`. Fields a caller may be
//! refused are nullable in the schema, so that `null` is what the schema
//! promises.

use std::sync::Arc;

use async_graphql::{
    Name, PathSegment, Response, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextSubscribe},
    futures_util::{StreamExt, stream::BoxStream},
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
        keep_keys(next.run(ctx, operation_name).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(keep_keys).boxed()
    }
}

/// Puts `null` at every error's path where the key is missing.
pub fn keep_keys(mut response: Response) -> Response {
    let paths: Vec<Vec<PathSegment>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        fill(&mut response.data, &path);
    }
    response
}

fn fill(value: &mut Value, path: &[PathSegment]) {
    let Some((first, rest)) = path.split_first() else {
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
            if !rest.is_empty() && !matches!(entry, Value::Null) {
                fill(entry, rest);
            }
        }
        PathSegment::Index(index) => {
            if let Value::List(items) = value
                && let Some(item) = items.get_mut(*index)
            {
                fill(item, rest);
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
        let mut response = with(data);
        response.errors = errors;
        response
    }

    fn field(name: &str) -> PathSegment {
        PathSegment::Field(name.into())
    }

    #[test]
    fn a_failed_field_is_null_at_its_path() {
        let response = Response::new(
            value!({ "me": { "displayName": "Dr" } }),
            vec![error_at(vec![field("patient")])],
        );
        assert_eq!(
            keep_keys(response).data,
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
            keep_keys(response).data,
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
            keep_keys(response).data,
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
            keep_keys(response).data,
            value!({ "list": [{ "a": 1 }, { "a": 2, "b": null }] })
        );
    }

    #[test]
    fn errors_without_a_path_change_nothing() {
        let response = with(Value::Null, vec![ServerError::new("bad", None)]);
        assert_eq!(keep_keys(response).data, Value::Null);
    }
}
