//! A server on a thread of its own with its own tokio runtime, so synchronous and async tests
//! can both use it: it serves until it is dropped, which stops it and waits for its thread.

use std::future::Future;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

#[derive(Debug)]
pub(crate) struct Background {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Runs `serve` on `listener` (made non-blocking and registered with the new runtime, of
    /// `workers` threads) until the server ends or this is dropped. `name` names the thread.
    pub(crate) fn start<Serve, Served>(
        name: String,
        workers: usize,
        listener: std::net::TcpListener,
        serve: Serve,
    ) -> Self
    where
        Serve: FnOnce(tokio::net::TcpListener) -> Served + Send + 'static,
        Served: Future<Output = ()>,
    {
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let (stop, stopped) = oneshot::channel::<()>();
        let what = name.clone();
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| panic!("build the runtime of {what}: {e}"));
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .unwrap_or_else(|e| panic!("register the listener of {what}: {e}"));
                    tokio::select! {
                        () = serve(listener) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime cancels connections still open.
                runtime.shutdown_background();
            })
            .expect("start a server's thread");
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
