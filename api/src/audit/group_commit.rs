//! Group commit for the audit trail: the rows of concurrent operations share
//! one transaction.
//!
//! Every read leaves its audit rows before its response goes out (DESIGN §6).
//! Written one operation at a time, each read pays a commit (an fsync on
//! PostgreSQL) of its own. Here operations hand their rows to one writer
//! task and wait: the writer takes everything queued since its last commit,
//! writes it in one transaction (one multi-row `INSERT` per
//! `MAX_ROWS_PER_STATEMENT` rows), and answers every waiter with the
//! outcome. Under light load a batch is one operation and nothing waits
//! longer than before; under heavy load commits carry many operations.
//!
//! Guarantees: `commit` returns `Ok` only after the rows are committed; if
//! the commit fails, every operation in the batch gets the error (and
//! answers an error instead of its data). No response leaves without its
//! rows, and no row of a sent response can be lost in a crash.

use std::sync::{Arc, OnceLock};

use sea_orm::{EntityTrait, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use entity::audit_events;

use crate::{
    db::{self, Database},
    error::{ApiError, ApiResult, ErrorCode},
};

/// Rows per `INSERT` (11 columns: well under PostgreSQL's 65,535 binds and
/// SQLite's 32,766).
const MAX_ROWS_PER_STATEMENT: usize = 500;
/// The most rows one commit takes; the rest wait for the next.
const MAX_ROWS_PER_COMMIT: usize = 5_000;
/// Operations that may queue before `commit` waits for room.
const QUEUE: usize = 4_096;

struct Pending {
    rows: Vec<audit_events::ActiveModel>,
    done: oneshot::Sender<Result<(), ErrorCode>>,
}

/// The shared writer. Cheap to clone; the task starts on first use (inside
/// the runtime) and ends when the last handle is dropped.
#[derive(Clone)]
pub struct AuditCommitter {
    db: Database,
    queue: Arc<OnceLock<mpsc::Sender<Pending>>>,
}

impl AuditCommitter {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            queue: Arc::new(OnceLock::new()),
        }
    }

    /// Commits `rows` with whatever else is queued; returns once they are
    /// committed, or the error that kept them out.
    pub async fn commit(&self, rows: Vec<audit_events::ActiveModel>) -> ApiResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        // The shared INSERT counts as one statement of this request (the
        // writer's task is outside the request's count).
        if let Some(counter) = db::current_counter() {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let (done, outcome) = oneshot::channel();
        let sender = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(run(self.db.clone(), receiver));
            sender
        });
        sender
            .send(Pending { rows, done })
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the audit writer has stopped")))?;
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            // Logged once by the writer; each request answers the code.
            Ok(Err(ErrorCode::Unavailable)) => Err(ApiError::Unavailable(None)),
            Ok(Err(_)) => Err(ApiError::internal(anyhow::anyhow!(
                "audit commit failed (logged by the writer)"
            ))),
            Err(_) => Err(ApiError::internal(anyhow::anyhow!(
                "the audit writer stopped before answering"
            ))),
        }
    }
}

/// The writer: one batch at a time, everything queued since the last.
async fn run(db: Database, mut receiver: mpsc::Receiver<Pending>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        let mut rows = batch[0].rows.len();
        while rows < MAX_ROWS_PER_COMMIT {
            match receiver.try_recv() {
                Ok(next) => {
                    rows += next.rows.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let all: Vec<_> = batch.iter_mut().flat_map(|p| p.rows.drain(..)).collect();
        let outcome = match write(&db, all).await {
            Ok(()) => Ok(()),
            Err(err) => {
                tracing::error!(operations = batch.len(), rows, "audit commit failed");
                err.log_cause();
                Err(err.code())
            }
        };
        for pending in batch {
            // A waiter that went away (its client hung up) needs no answer.
            let _ = pending.done.send(outcome);
        }
    }
}

async fn write(db: &Database, rows: Vec<audit_events::ActiveModel>) -> ApiResult<()> {
    let conn = db.conn()?;
    let txn = conn.begin().await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(MAX_ROWS_PER_STATEMENT).collect();
        audit_events::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}
