//! A loopback TCP proxy in front of a real test server, whose behaviour a test switches:
//! forward to the server, refuse (reset every connection, as a stopped server does), or stay
//! silent (accept and never answer). It lets one test stop a shared server for its own
//! client only, and bring it back, without disturbing the tests that run beside it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Pass bytes both ways to the server.
    Forward,
    /// Reset the connection at once (and cut the connections already forwarded): the server
    /// is down.
    Refuse,
    /// Reset the next `n` connections, then forward: an outage that ends while the client
    /// is still trying.
    RefuseNext(usize),
    /// Accept and never answer.
    Silent,
    /// Forward the next `connections` connections but cut each once `bytes` bytes have come
    /// back from the server (a download dropped mid-way), then forward.
    CutAfter { bytes: usize, connections: usize },
    /// Answer every request as S3 does when a policy forbids it: 403 `AccessDenied`.
    DenyS3,
}

struct State {
    mode: Mode,
    /// Live forwarded sockets (both sides), cut when the server "stops".
    live: Vec<TcpStream>,
    /// Silent connections, held open.
    held: Vec<TcpStream>,
}

pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    refused: Arc<AtomicUsize>,
    forwarded: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept_loop: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream` (`host:port`), forwarding.
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream: SocketAddr = upstream.parse().expect("upstream is host:port");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Forward,
            live: Vec::new(),
            held: Vec::new(),
        }));
        let refused = Arc::new(AtomicUsize::new(0));
        let forwarded = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let accept_loop = {
            let (state, refused, forwarded, stop) = (
                state.clone(),
                refused.clone(),
                forwarded.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let client = match listener.accept() {
                        Ok((client, _)) => client,
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    };
                    client.set_nonblocking(false).unwrap();
                    let mut st = state.lock().unwrap();
                    let mut limit = None;
                    let forward = match st.mode {
                        Mode::Forward => true,
                        Mode::CutAfter { connections: 0, .. } => {
                            st.mode = Mode::Forward;
                            true
                        }
                        Mode::CutAfter { bytes, connections } => {
                            st.mode = Mode::CutAfter {
                                bytes,
                                connections: connections - 1,
                            };
                            limit = Some(bytes);
                            true
                        }
                        Mode::RefuseNext(0) => {
                            st.mode = Mode::Forward;
                            true
                        }
                        Mode::RefuseNext(n) => {
                            st.mode = Mode::RefuseNext(n - 1);
                            false
                        }
                        Mode::Refuse => false,
                        Mode::Silent => {
                            st.held.push(client);
                            continue;
                        }
                        Mode::DenyS3 => {
                            refused.fetch_add(1, Ordering::SeqCst);
                            std::thread::spawn(move || deny_s3(client));
                            continue;
                        }
                    };
                    if !forward {
                        refused.fetch_add(1, Ordering::SeqCst);
                        reset(client);
                        continue;
                    }
                    let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(2))
                    else {
                        reset(client);
                        continue;
                    };
                    forwarded.fetch_add(1, Ordering::SeqCst);
                    st.live.push(client.try_clone().unwrap());
                    st.live.push(server.try_clone().unwrap());
                    pipe(
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        None,
                    );
                    pipe(server, client, limit);
                }
            })
        };
        FaultProxy {
            port,
            state,
            refused,
            forwarded,
            stop,
            accept_loop: Some(accept_loop),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Switches the behaviour for new connections; leaving `Forward` cuts the forwarded ones,
    /// as a server that stops does.
    pub fn set_mode(&self, mode: Mode) {
        let mut st = self.state.lock().unwrap();
        if mode != Mode::Forward {
            for s in st.live.drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        if mode != Mode::Silent {
            st.held.clear();
        }
        st.mode = mode;
    }

    /// Connections reset so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// Connections forwarded so far.
    pub fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.set_mode(Mode::Refuse);
        if let Some(h) = self.accept_loop.take() {
            let _ = h.join();
        }
    }
}

/// Reads requests on `client` and answers each with S3's 403 `AccessDenied`, until the client
/// closes. A request's body is read until the client pauses (its length is not parsed: the
/// SDK may send it chunked), so that the answer comes after the request as a server's would.
fn deny_s3(mut client: TcpStream) {
    const BODY: &str =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
        <Message>Access Denied</Message><RequestId>CITYFLOWTEST</RequestId></Error>";
    let _ = client.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 64 * 1024];
    loop {
        let mut got = 0;
        loop {
            match client.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => got += n,
                // A pause: the request is in.
                Err(_) if got > 0 => break,
                Err(_) => return,
            }
        }
        let answer = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nx-amz-request-id: CITYFLOWTEST\r\n\
             Content-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        );
        if client.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Closes with a TCP reset (linger 0), as a port with nothing behind it answers.
fn reset(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Copies `from` → `to` on a thread until either side closes, or until `limit` bytes have
/// passed (then both sides are cut).
fn pipe(mut from: TcpStream, mut to: TcpStream, limit: Option<usize>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        let mut left = limit.unwrap_or(usize::MAX);
        while left > 0 {
            match from.read(&mut buf[..left.min(16 * 1024)]) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    left -= n;
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
