//! Run a party-local closure on one thread per party and collect the results.
//!
//! Every protocol is written once, party-locally; these harnesses run it on `n` threads
//! over an [`InMemoryNetwork`] (or over any set of [`Comm`] endpoints). A party that
//! panics has its endpoint dropped at once, so its peers see
//! [`ShareError::Disconnected`] instead of waiting; the harness then returns
//! [`ShareError::PartyPanicked`] naming the party that panicked *first*.

use crate::comm::Comm;
use crate::error::{Result, ShareError};
use crate::memory::{InMemoryComm, InMemoryNetwork};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` for each of `parties` parties on its own thread over a fresh in-memory network
/// and returns each party's result, in party order.
///
/// ```
/// use syft_share::{Comm, CommExt, run_parties};
/// use syft_ring::Tensor;
///
/// # fn main() -> syft_share::Result<()> {
/// let sums = run_parties(3, |comm| {
///     let mine = Tensor::<u64>::scalar(comm.id() as u64 + 1);
///     comm.reveal(&mine, &[0, 1, 2])
/// })?;
/// for s in sums {
///     assert_eq!(s?.item()?, 6);
/// }
/// # Ok(())
/// # }
/// ```
pub fn run_parties<R, F>(parties: usize, f: F) -> Result<Vec<R>>
where
    R: Send,
    F: Fn(&mut InMemoryComm) -> R + Sync,
{
    run_comms(InMemoryNetwork::new(parties), f)
}

/// Like [`run_parties`], passing party `i` its own input `inputs[i]` (one party per input).
pub fn run_parties_with<I, R, F>(inputs: Vec<I>, f: F) -> Result<Vec<R>>
where
    I: Send,
    R: Send,
    F: Fn(&mut InMemoryComm, I) -> R + Sync,
{
    run_comms_with(InMemoryNetwork::new(inputs.len()), inputs, f)
}

/// Runs `f` on each endpoint of `comms` (any [`Comm`] implementation) on its own thread.
pub fn run_comms<C, R, F>(comms: Vec<C>, f: F) -> Result<Vec<R>>
where
    C: Comm,
    R: Send,
    F: Fn(&mut C) -> R + Sync,
{
    let inputs = vec![(); comms.len()];
    run_comms_with(comms, inputs, |c, ()| f(c))
}

/// Runs `f` on each endpoint of `comms` with its input, on its own thread.
pub fn run_comms_with<C, I, R, F>(comms: Vec<C>, inputs: Vec<I>, f: F) -> Result<Vec<R>>
where
    C: Comm,
    I: Send,
    R: Send,
    F: Fn(&mut C, I) -> R + Sync,
{
    if comms.len() != inputs.len() {
        return Err(ShareError::InvalidArgument {
            op: "run_comms_with",
            reason: format!("{} endpoints but {} inputs", comms.len(), inputs.len()),
        });
    }
    let panics = AtomicUsize::new(0);
    let f = &f;
    let panics = &panics;
    // Per party: Ok(result) or Err((panic order, error)).
    let outcomes: Vec<std::result::Result<R, (usize, ShareError)>> = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(comms.len());
        for (party, (mut comm, input)) in comms.into_iter().zip(inputs).enumerate() {
            let spawned = std::thread::Builder::new().name(format!("party-{party}")).spawn_scoped(scope, move || {
                let out = catch_unwind(AssertUnwindSafe(|| f(&mut comm, input)));
                // Drop the endpoint before anything else so that peers stop waiting.
                drop(comm);
                out.map_err(|payload| {
                    let order = panics.fetch_add(1, Ordering::SeqCst);
                    (order, ShareError::PartyPanicked { party, message: panic_message(payload.as_ref()) })
                })
            });
            handles.push(spawned.map_err(|e| ShareError::Spawn { party, reason: e.to_string() }));
        }
        handles
            .into_iter()
            .enumerate()
            .map(|(party, h)| match h {
                Ok(h) => h.join().unwrap_or_else(|payload| {
                    Err((usize::MAX, ShareError::PartyPanicked { party, message: panic_message(payload.as_ref()) }))
                }),
                Err(e) => Err((0, e)),
            })
            .collect()
    });
    let mut results = Vec::with_capacity(outcomes.len());
    let mut first_failure: Option<(usize, ShareError)> = None;
    for o in outcomes {
        match o {
            Ok(r) => results.push(r),
            Err((order, e)) => {
                if first_failure.as_ref().is_none_or(|(o, _)| order < *o) {
                    first_failure = Some((order, e));
                }
            }
        }
    }
    match first_failure {
        Some((_, e)) => Err(e),
        None => Ok(results),
    }
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
