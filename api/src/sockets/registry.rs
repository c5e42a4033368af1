//! Open sockets per user on this replica, for
//! `STEPDOWN_WS_MAX_SOCKETS_PER_USER`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use uuid::Uuid;

/// Open sockets per user on this replica.
#[derive(Default)]
pub struct SocketRegistry {
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// One open socket, counted until dropped.
pub struct SocketTicket {
    user: Uuid,
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

impl SocketRegistry {
    /// Counts a new socket for `user`, or `None` when they hold `max` already.
    pub fn open(&self, user: Uuid, max: usize) -> Option<SocketTicket> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(user).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketTicket {
            user,
            open: self.open.clone(),
        })
    }

    pub fn open_for(&self, user: Uuid) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&user).copied().unwrap_or(0)
    }
}

impl Drop for SocketTicket {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_the_cap_and_closed_sockets_free_their_place() {
        let registry = SocketRegistry::default();
        let user = Uuid::now_v7();
        let first = registry.open(user, 2).unwrap();
        let _second = registry.open(user, 2).unwrap();
        assert!(registry.open(user, 2).is_none());
        assert!(registry.open(Uuid::now_v7(), 2).is_some(), "per user");
        drop(first);
        assert_eq!(registry.open_for(user), 1);
        assert!(registry.open(user, 2).is_some());
    }
}
