//! Enums stored as text (DESIGN §2: portable schema). One macro gives an
//! enum its stored form, `as_str` and `parse`, and `from_row`, which turns
//! an unknown stored value into an internal error (a broken row).
//!
//! Two forms:
//! - `stored_enum!(Name { Variant => "TEXT", … })` declares a GraphQL enum;
//! - `stored_enum!(impl Name { Variant => "TEXT", … })` adds the methods to
//!   an enum declared elsewhere (a pure rule's enum).

macro_rules! stored_enum {
    (impl $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The stored form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(stored: &str) -> Option<Self> {
                match stored {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// A stored value this build does not know is a broken row.
            pub fn from_row(stored: &str) -> crate::error::ApiResult<Self> {
                Self::parse(stored).ok_or_else(|| {
                    crate::error::ApiError::internal(anyhow::anyhow!(
                        "unknown {} {stored}",
                        stringify!($name)
                    ))
                })
            }
        }
    };
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        crate::stored::stored_enum!(impl $name { $($variant => $text),+ });
    };
}
pub(crate) use stored_enum;

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Light {
        Red,
        Green,
    }
    stored_enum!(impl Light { Red => "RED", Green => "GREEN" });

    #[test]
    fn stored_forms_round_trip_and_unknown_rows_are_errors() {
        for light in [Light::Red, Light::Green] {
            assert_eq!(Light::parse(light.as_str()), Some(light));
        }
        assert_eq!(Light::parse("BLUE"), None);
        assert!(Light::from_row("BLUE").is_err());
    }
}
