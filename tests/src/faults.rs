//! A collector that accepts connections and never answers, for fault-injection tests.
//! One that answers every export with an error is
//! [`Receiver::start_refusing`](crate::Receiver::start_refusing); one that is down is
//! just a closed port ([`closed_port`](crate::closed_port)).

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Accepts TCP connections on a loopback port and never reads or writes: every export
/// waits for its timeout. Stops (closing the connections) when dropped.
pub struct StallingCollector {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StallingCollector {
    /// Starts listening.
    pub fn start() -> StallingCollector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let address = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            held.push(stream);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        StallingCollector {
            endpoint: format!("http://{address}"),
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StallingCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
