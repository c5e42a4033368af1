//! WebSocket sessions (DESIGN §4): what an open socket carries between its
//! operations, and what each operation on it gets.
//!
//! - Every operation on a socket is checked like an HTTP request: it gets
//!   its own `RequestContext` (so the session is looked up again, and a
//!   revoked session or expired token is `UNAUTHENTICATED` at once), its
//!   own loaders and request id, HTTP's document limits, and, for queries
//!   and mutations, the time limit and panic guard. Subscriptions live as
//!   long as the socket.
//! - A socket holds at most `STEPDOWN_WS_MAX_SUBSCRIPTIONS_PER_SOCKET` live
//!   subscriptions, and a user at most `STEPDOWN_WS_MAX_SOCKETS_PER_USER`
//!   sockets on one replica (`SocketRegistry`).
//!
//! The HTTP handler (`http::ws`) opens the socket, checks `connection_init`
//! and closes sockets whose session ends.

pub mod operation;
pub mod registry;

pub use operation::{SocketExtension, SocketSession};
pub use registry::{SocketRegistry, SocketTicket};
