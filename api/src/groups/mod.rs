//! Group support: support groups and their facilitators, membership with an
//! alias, meetings with RSVPs and attendance, confidential posts with
//! moderation, and shared recovery goals for accountability.
//!
//! Who may do what is decided in `authz::groups`; every resolver here asks
//! it. Posts stay inside the group: no clinical view reads them.

pub mod demo;
pub mod goals;
pub mod meetings;
pub mod membership;
pub mod posts;
pub mod rules;

/// A GraphQL enum stored as its upper-case name.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
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
}
pub(crate) use stored_enum;
