//! Checks on a parsed document before it runs, beyond async-graphql's own
//! depth and complexity limits: how many fields and aliases it selects
//! (a 5,000-alias query is refused before any resolver runs), and which kind
//! of operation was asked for (mutations are refused over GET).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};

use crate::config::Limits;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DocumentStats {
    pub fields: usize,
    pub aliases: usize,
    /// Selects `__schema` or `__type` (introspection; `__typename` is not).
    pub introspects: bool,
}

/// Counts field selections and aliases across operations and fragments.
pub fn document_stats(doc: &ExecutableDocument) -> DocumentStats {
    fn walk(set: &SelectionSet, stats: &mut DocumentStats) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    stats.fields += 1;
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        stats.introspects = true;
                    }
                    if field.node.alias.is_some() {
                        stats.aliases += 1;
                    }
                    walk(&field.node.selection_set.node, stats);
                }
                Selection::InlineFragment(fragment) => {
                    walk(&fragment.node.selection_set.node, stats)
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    let mut stats = DocumentStats::default();
    for (_, operation) in doc.operations.iter() {
        walk(&operation.node.selection_set.node, &mut stats);
    }
    for fragment in doc.fragments.values() {
        walk(&fragment.node.selection_set.node, &mut stats);
    }
    stats
}

/// The message for a document over the configured limits (or asking for
/// introspection where it is off), if it is.
pub fn check_document(
    doc: &ExecutableDocument,
    limits: &Limits,
    introspection: bool,
) -> Option<String> {
    let stats = document_stats(doc);
    if stats.introspects && !introspection {
        return Some("introspection is disabled on this server".to_owned());
    }
    if stats.aliases > limits.max_aliases {
        return Some(format!(
            "query uses {} aliases; at most {} are allowed",
            stats.aliases, limits.max_aliases
        ));
    }
    if stats.fields > limits.max_fields {
        return Some(format!(
            "query selects {} fields; at most {} are allowed",
            stats.fields, limits.max_fields
        ));
    }
    None
}

/// The type of the operation a request would run: the named one, or the
/// only one. `None` when the name matches nothing (validation reports that).
pub fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    }
}

/// The operation's name for metrics: the requested one, else the document's.
pub fn operation_name(doc: &ExecutableDocument, requested: Option<&str>) -> Option<String> {
    if let Some(name) = requested {
        return Some(name.to_owned());
    }
    match &doc.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            ops.keys().next().map(|n| n.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn counts_fields_and_aliases_in_operations_and_fragments() {
        let doc = parse_query(
            "query Q { a: me { id ...F } b: me { id } } fragment F on User { x: email roles }",
        )
        .unwrap();
        assert_eq!(
            document_stats(&doc),
            DocumentStats {
                fields: 6,
                aliases: 3,
                introspects: false,
            }
        );
    }

    #[test]
    fn thousands_of_aliases_are_refused() {
        let body: String = (0..5000).map(|i| format!("a{i}: __typename ")).collect();
        let doc = parse_query(format!("{{ {body} }}")).unwrap();
        let message = check_document(&doc, &Limits::default(), true).unwrap();
        assert!(message.contains("5000 aliases"), "{message}");
    }

    #[test]
    fn introspection_can_be_refused() {
        let doc = parse_query("{ __schema { queryType { name } } }").unwrap();
        assert!(check_document(&doc, &Limits::default(), true).is_none());
        assert!(check_document(&doc, &Limits::default(), false).is_some());
        let typename = parse_query("{ __typename }").unwrap();
        assert!(check_document(&typename, &Limits::default(), false).is_none());
    }

    #[test]
    fn finds_the_requested_operation_type() {
        let doc = parse_query("query A { me { id } } mutation B { x }").unwrap();
        assert_eq!(
            operation_type(&doc, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type(&doc, Some("A")), Some(OperationType::Query));
        assert_eq!(operation_type(&doc, None), None);
        let single = parse_query("mutation { x }").unwrap();
        assert_eq!(operation_type(&single, None), Some(OperationType::Mutation));
        assert_eq!(operation_name(&doc, None), None);
        let named = parse_query("query Named { me { id } }").unwrap();
        assert_eq!(operation_name(&named, None).as_deref(), Some("Named"));
    }
}
