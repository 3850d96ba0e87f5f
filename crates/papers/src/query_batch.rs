//! Query embedding in batches.
//!
//! A short query costs the model little arithmetic but a full pass over its weights
//! (22 M parameters: tens of megabytes, more than the CPU's cache), so embedding
//! queries one at a time is bound by memory bandwidth, and concurrent searches each
//! stream the weights again. One thread embeds every query: when it finishes a batch
//! it takes all queries that arrived meanwhile as the next one, so a lone query goes
//! through at once and a burst shares one pass over the weights. Batching does not
//! change a vector (the embed crate's parity tests check batched against single).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use papers_embed::Embedder;

/// Queries embedded in one pass at most: beyond this a batch gains little and the
/// queries at its end wait longer.
const MAX_BATCH: usize = 32;

type Reply = Result<Vec<f32>, String>;

struct Request {
    text: String,
    reply: SyncSender<Reply>,
}

/// Embeds queries on its own thread, batching those that wait; stops with the last
/// handle.
pub struct QueryBatcher {
    requests: Sender<Request>,
}

impl QueryBatcher {
    pub fn start(embedder: Arc<Embedder>) -> std::io::Result<QueryBatcher> {
        let (requests, incoming) = mpsc::channel();
        std::thread::Builder::new()
            .name("query-embedder".to_owned())
            .spawn(move || serve(&embedder, &incoming))?;
        Ok(QueryBatcher { requests })
    }

    /// The query's unit vector, or why there is none.
    pub fn embed(&self, text: &str) -> Reply {
        let stopped = || "the query embedder stopped".to_owned();
        let (reply, answer) = mpsc::sync_channel(1);
        self.requests
            .send(Request {
                text: text.to_owned(),
                reply,
            })
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

fn serve(embedder: &Embedder, incoming: &Receiver<Request>) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let texts: Vec<&str> = batch.iter().map(|r| r.text.as_str()).collect();
        // A panic in the model fails this batch's searches over to lexical, not every
        // later one.
        let outcome = catch_unwind(AssertUnwindSafe(|| embedder.embed(&texts)));
        match outcome {
            Ok(Ok(vectors)) if vectors.len() == batch.len() => {
                for (request, vector) in batch.into_iter().zip(vectors) {
                    // A searcher that gave up waiting has dropped its receiver.
                    let _ = request.reply.send(Ok(vector));
                }
            }
            failed => {
                let reason = match failed {
                    Ok(Err(error)) => error.to_string(),
                    Ok(Ok(_)) => "the model returned the wrong number of vectors".to_owned(),
                    Err(_) => "the model panicked".to_owned(),
                };
                for request in batch {
                    let _ = request.reply.send(Err(reason.clone()));
                }
            }
        }
    }
}
