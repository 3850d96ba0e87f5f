//! Fetching the next page while the caller stores the current one.
//!
//! A harvest is a chain: each OAI-PMH page names the token of the next, so pages can
//! only be requested one after another. But the next request does not have to wait
//! for the caller to store the page it just got: [`Prefetch`] runs the page iterator
//! (HTTP, pacing, `Retry-After`, parsing) on its own thread, at most one page ahead
//! of the caller, so on two cores fetching and storing overlap.
//!
//! What the caller sees is unchanged: the same items in the same order, errors
//! included, after which the iterator ends as the underlying one does. Only timing
//! moves: the next page may have been requested (and its pacing delay waited out)
//! before the caller has committed the current one, so a harvester killed between
//! the two fetches the next page again when it resumes; it never stores it twice,
//! since the caller still commits each page with its position.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// An iterator that yields what `pages` yields, fetched on a thread one item ahead.
/// Dropping it stops the thread after the item it is fetching (the fetch in flight
/// is finished, not abandoned) and waits for it, so nothing outlives the harvest
/// that made it: in particular no request is sent after a job's claim is released.
#[derive(Debug)]
pub struct Prefetch<T: Send + 'static> {
    /// `None` once dropped, which is what tells the fetching thread to stop.
    receiver: Option<Receiver<T>>,
    fetcher: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> Prefetch<T> {
    /// Starts fetching `pages` on a thread named `name`. The thread holds one item
    /// ready while the caller works on the previous one, and asks for no more until
    /// the caller takes it.
    pub fn start<I>(name: &str, pages: I) -> std::io::Result<Self>
    where
        I: Iterator<Item = T> + Send + 'static,
    {
        // A rendezvous channel: the thread fetches one item, then waits in `send`
        // until the caller asks for it, so it is never more than one page ahead.
        let (sender, receiver) = sync_channel(0);
        let fetcher = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || fetch_all(pages, &sender))?;
        Ok(Prefetch {
            receiver: Some(receiver),
            fetcher: Some(fetcher),
        })
    }
}

fn fetch_all<T>(pages: impl Iterator<Item = T>, sender: &SyncSender<T>) {
    for page in pages {
        // The caller dropped the iterator (it stopped on an error of its own, or
        // had enough): the page is not wanted, and neither is the next request.
        if sender.send(page).is_err() {
            return;
        }
    }
}

impl<T: Send + 'static> Iterator for Prefetch<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        // Ends when the thread has sent the last item and returned (its sender gone).
        self.receiver.as_ref()?.recv().ok()
    }
}

impl<T: Send + 'static> Drop for Prefetch<T> {
    fn drop(&mut self) {
        // Closing the channel first makes the thread's next `send` fail, so the join
        // below waits at most for the fetch in flight.
        self.receiver = None;
        if let Some(fetcher) = self.fetcher.take()
            && fetcher.join().is_err()
        {
            tracing::error!("the page fetching thread panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts how many items the underlying iterator has produced.
    fn counted(count: &Arc<AtomicUsize>, items: usize) -> impl Iterator<Item = usize> + use<> {
        let count = Arc::clone(count);
        (0..items).inspect(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn yields_every_item_in_order() {
        let count = Arc::new(AtomicUsize::new(0));
        let pages = Prefetch::start("test", counted(&count, 5)).expect("thread");
        assert_eq!(pages.collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!(count.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn fetches_at_most_one_item_ahead() {
        let count = Arc::new(AtomicUsize::new(0));
        let mut pages = Prefetch::start("test", counted(&count, 100)).expect("thread");
        assert_eq!(pages.next(), Some(0));
        // Dropping waits for the thread. It may have produced item 1 and been waiting
        // to hand it over, but not gone on to item 2 before item 1 was taken, nor on
        // to the other 98 once nobody listens.
        drop(pages);
        assert!(count.load(Ordering::SeqCst) <= 2, "{count:?}");
    }

    #[test]
    fn ends_where_the_underlying_iterator_ends_after_an_error() {
        let items: Vec<Result<u8, &str>> = vec![Ok(1), Err("refused")];
        let pages = Prefetch::start("test", items.into_iter()).expect("thread");
        assert_eq!(pages.collect::<Vec<_>>(), vec![Ok(1), Err("refused")]);
    }
}
