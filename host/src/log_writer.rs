//! The log's writer (issue 23): lines are formatted on the thread that logs, appended to a
//! shared buffer, and written to stderr by a thread of their own.
//!
//! Under load the writer wakes at most once per [`BATCH_WINDOW`], not once per line: a line
//! wakes it only when it is not already due to write, and a writer that wrote less than a window
//! ago waits for the rest of the window first, so a burst of requests becomes one `write` (and
//! one thread wake-up) per window. A lone line after a quiet spell is written at once. Nothing
//! is dropped: when [`MAX_PENDING_BYTES`] are waiting, loggers wait for the writer
//! (back-pressure, not loss). Each line is appended whole, so lines never interleave.

use std::io::Write as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a busy writer gathers lines before it writes them.
pub const BATCH_WINDOW: Duration = Duration::from_millis(10);
/// Bytes waiting for the writer before loggers wait for it (about 64k request lines).
pub const MAX_PENDING_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The writer was told there is something to write (later lines need not tell it again).
    due: bool,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the writer.
    work: Condvar,
    /// Wakes loggers waiting for room.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, line: &[u8]) {
        let mut state = self.lock();
        while state.pending.len() >= MAX_PENDING_BYTES && !state.closed {
            state.due = true;
            self.work.notify_one();
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.closed {
            // The writer has stopped (the process is exiting): write it ourselves.
            drop(state);
            let _ = std::io::stderr().lock().write_all(line);
            return;
        }
        state.pending.extend_from_slice(line);
        if !state.due {
            state.due = true;
            self.work.notify_one();
        }
    }
}

/// Cloned into the subscriber; each `make_writer` is one line.
#[derive(Clone)]
pub struct BatchedStderr(Arc<Shared>);

impl std::fmt::Debug for BatchedStderr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchedStderr").finish_non_exhaustive()
    }
}

/// One event's output: `tracing-subscriber` formats an event and writes it with one
/// `write_all`, which this appends to the shared buffer whole.
#[derive(Debug)]
pub struct Line(BatchedStderr);

impl std::io::Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.0.append(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line(self.clone())
    }
}

/// Stops the writer when dropped, after it has written everything appended before.
#[derive(Debug)]
pub struct WriterGuard {
    shared: BatchedStderr,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        {
            let mut state = self.shared.0.lock();
            state.closed = true;
            state.due = true;
        }
        self.shared.0.work.notify_one();
        self.shared.0.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the writer thread; `out` is where lines go (stderr in the server).
pub fn start(
    out: impl std::io::Write + Send + 'static,
) -> std::io::Result<(BatchedStderr, WriterGuard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        work: Condvar::new(),
        room: Condvar::new(),
    });
    let writer = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("cognate-log".into())
        .spawn(move || write_lines(&writer, out))?;
    let handle = BatchedStderr(shared);
    Ok((
        handle.clone(),
        WriterGuard {
            shared: handle,
            thread: Some(thread),
        },
    ))
}

fn write_lines(shared: &Shared, mut out: impl std::io::Write) {
    let mut batch = Vec::new();
    // Long enough ago that the first line is written at once.
    let mut last_write = Instant::now().checked_sub(BATCH_WINDOW);
    loop {
        let mut state = shared.lock();
        while !state.due {
            state = shared
                .work
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        // Busy (the last write was less than a window ago): gather the rest of the window.
        if !state.closed
            && let Some(wait) = last_write.and_then(|t| BATCH_WINDOW.checked_sub(t.elapsed()))
            && state.pending.len() < MAX_PENDING_BYTES
        {
            drop(state);
            std::thread::sleep(wait);
            state = shared.lock();
        }
        std::mem::swap(&mut batch, &mut state.pending);
        state.due = false;
        let closed = state.closed;
        drop(state);
        shared.room.notify_all();
        if !batch.is_empty() {
            // A failing stderr (closed pipe) cannot be reported anywhere: the lines are lost,
            // the server goes on.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            last_write = Some(Instant::now());
        }
        // Lines appended after the guard closed the buffer go straight to stderr.
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What the writer thread wrote, and how many writes it made.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut sink = self.0.lock().unwrap();
            sink.0.extend_from_slice(bytes);
            sink.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_whole_in_order_and_a_burst_in_few_writes() {
        let sink = Sink::default();
        let (writer, guard) = start(sink.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5000 {
                        let mut line = tracing_subscriber::fmt::MakeWriter::make_writer(&writer);
                        line.write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let (bytes, writes) = sink.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000);
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .copied()
                .collect();
            let expected: Vec<String> = (0..5000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected, "thread {t}'s lines, whole and in order");
        }
        assert!(writes < 20_000, "{writes} writes for 20,000 lines");
    }

    #[test]
    fn a_lone_line_is_written_without_waiting_for_the_guard() {
        let sink = Sink::default();
        let (writer, _guard) = start(sink.clone()).unwrap();
        let mut line = tracing_subscriber::fmt::MakeWriter::make_writer(&writer);
        line.write_all(b"hello\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while sink.0.lock().unwrap().0.is_empty() {
            assert!(Instant::now() < deadline, "the line was never written");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.0.lock().unwrap().0, b"hello\n");
    }
}
