//! The test servers of the backend crates' tests, whichever way they were started
//! (feature `test-servers`).
//!
//! A backend test asks [`endpoint`] for its server. When the server's endpoint variable is set
//! (`MONGODB_TEST_URL`, `S3_TEST_ENDPOINT_URL`, `DYNAMODB_TEST_ENDPOINT_URL`: a host process
//! from `scripts/services`, or any server you point it at), that is the answer. Otherwise the
//! server's image is started with testcontainers (the image named by `CITYFLOW_TEST_*_IMAGE`,
//! by default the upstream one), once per test binary and shared by its tests, and removed when
//! the binary exits, failed tests included. So the same test bodies run against host processes
//! and containers.
//!
//! ```no_run
//! # async fn demo() {
//! use cityflow_core::test_servers::{endpoint, MONGODB};
//! let Some(url) = endpoint(&MONGODB).await else { return };
//! # }
//! ```

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

/// A server the backend tests need.
#[derive(Debug)]
pub struct TestServer {
    /// What it is, for messages.
    pub name: &'static str,
    /// The variable holding the endpoint of a server started some other way.
    pub endpoint_var: &'static str,
    /// The variable naming the image to run when no endpoint is given.
    pub image_var: &'static str,
    /// The image run when `image_var` is unset: the upstream one, for users with Docker Hub.
    pub default_image: &'static str,
    /// The port the server listens on inside the container.
    pub port: u16,
    /// Environment of the container.
    pub env: &'static [(&'static str, &'static str)],
    /// How to tell that the server answers (a mapped port accepts connections before the
    /// server inside listens, so a TCP connect proves nothing).
    pub probe: Probe,
    /// The endpoint, from the port mapped on 127.0.0.1.
    pub endpoint: fn(u16) -> String,
}

/// A protocol-level check that a server answers.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// A MongoDB `hello` command (OP_MSG) answered with an OP_MSG.
    MongoHello,
    /// An HTTP GET of this path answered with any HTTP status line.
    HttpGet(&'static str),
}

/// MongoDB: upstream `mongo:8.0`; our scripts run SecantusDB's image.
pub const MONGODB: TestServer = TestServer {
    name: "MongoDB",
    endpoint_var: "MONGODB_TEST_URL",
    image_var: "CITYFLOW_TEST_MONGODB_IMAGE",
    default_image: "mongo:8.0",
    port: 27017,
    env: &[],
    probe: Probe::MongoHello,
    endpoint: |port| format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
};

/// S3: upstream LocalStack 4.14 (the last tag usable without an auth token), S3 only.
pub const S3: TestServer = TestServer {
    name: "S3",
    endpoint_var: "S3_TEST_ENDPOINT_URL",
    image_var: "CITYFLOW_TEST_S3_IMAGE",
    default_image: "localstack/localstack:4.14",
    port: 4566,
    // S3 loaded at start, and probed with a real S3 call (ListBuckets): LocalStack's health
    // answer comes before its first S3 request can.
    env: &[("SERVICES", "s3"), ("EAGER_SERVICE_LOADING", "1")],
    probe: Probe::HttpGet("/"),
    endpoint: |port| format!("http://127.0.0.1:{port}"),
};

/// DynamoDB: upstream DynamoDB Local 3.3.0, in memory.
pub const DYNAMODB: TestServer = TestServer {
    name: "DynamoDB",
    endpoint_var: "DYNAMODB_TEST_ENDPOINT_URL",
    image_var: "CITYFLOW_TEST_DYNAMODB_IMAGE",
    default_image: "amazon/dynamodb-local:3.3.0",
    port: 8000,
    env: &[],
    probe: Probe::HttpGet("/"),
    endpoint: |port| format!("http://127.0.0.1:{port}"),
};

/// How long a container may take to answer its probe (LocalStack needs ~10 s on 2 cores).
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the removal of the containers may hold the exit of a test binary.
const REMOVE_TIMEOUT: Duration = Duration::from_secs(60);
/// The label on every container started here (`scripts/docker leftovers` looks for it).
pub const TEST_LABEL: &str = "cityflow.test";

/// The endpoint of `server` for a test: the endpoint variable when set, else a container.
///
/// Returns `None` (the test is skipped, saying why) only outside CI when neither is possible;
/// with `CI=true` that panics instead, so nothing is skipped in CI. A container that fails to
/// start or to answer panics with the reason, the image and the Docker host.
pub async fn endpoint(server: &'static TestServer) -> Option<String> {
    if let Some(url) = std::env::var(server.endpoint_var)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return Some(url.trim().to_string());
    }
    if !docker_reachable() {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "{} is not set and no Docker engine answers (DOCKER_HOST unset, no \
             /var/run/docker.sock) with CI=true: backend tests are never skipped in CI",
            server.endpoint_var
        );
        eprintln!(
            "skipped: {} is not set and no Docker engine is reachable (run scripts/services \
             start and `eval \"$(scripts/services env)\"`, or start Docker; see the README)",
            server.endpoint_var
        );
        return None;
    }
    let (reply, answer) = tokio::sync::oneshot::channel();
    keeper()
        .send(Request::Start(server, reply))
        .expect("the container keeper thread is gone");
    match answer.await {
        Ok(Ok(url)) => Some(url),
        Ok(Err(why)) => panic!("{why}"),
        Err(_) => panic!("the container keeper thread is gone"),
    }
}

/// The image `server` runs as a container: `image_var`, else the upstream default.
pub fn image_of(server: &TestServer) -> String {
    std::env::var(server.image_var)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| server.default_image.to_string())
}

fn docker_reachable() -> bool {
    std::env::var("DOCKER_HOST").is_ok_and(|h| !h.is_empty())
        || std::path::Path::new("/var/run/docker.sock").exists()
}

enum Request {
    Start(
        &'static TestServer,
        tokio::sync::oneshot::Sender<Result<String, String>>,
    ),
    RemoveAll(mpsc::Sender<()>),
}

/// The containers live in one thread with a runtime of its own: the tests' runtimes come and
/// go (one per `#[tokio::test]`), and the Docker client must outlive them to remove the
/// containers when the binary exits.
fn keeper() -> &'static mpsc::Sender<Request> {
    KEEPER.get_or_init(|| {
        let (send, receive) = mpsc::channel();
        std::thread::Builder::new()
            .name("test-containers".into())
            .spawn(move || keep(receive))
            .expect("spawn the container keeper thread");
        // SAFETY: `remove_at_exit` is an `extern "C" fn()` that catches its own panics.
        let registered = unsafe { libc::atexit(remove_at_exit) };
        assert_eq!(registered, 0, "atexit refused the container cleanup");
        send
    })
}

static KEEPER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();

fn keep(requests: mpsc::Receiver<Request>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the container keeper");
    let mut running: HashMap<&'static str, (ContainerAsync<GenericImage>, String)> = HashMap::new();
    while let Ok(request) = requests.recv() {
        match request {
            Request::Start(server, reply) => {
                let answer = match running.get(server.name) {
                    Some((_, url)) => Ok(url.clone()),
                    None => match runtime.block_on(start(server)) {
                        Ok((container, url)) => {
                            running.insert(server.name, (container, url.clone()));
                            Ok(url)
                        }
                        Err(why) => Err(why),
                    },
                };
                let _ = reply.send(answer);
            }
            Request::RemoveAll(done) => {
                for (_, (container, _)) in running.drain() {
                    let id = container.id().to_string();
                    if let Err(e) = runtime.block_on(container.rm()) {
                        eprintln!("could not remove test container {id}: {e}");
                    }
                }
                let _ = done.send(());
            }
        }
    }
}

async fn start(
    server: &'static TestServer,
) -> Result<(ContainerAsync<GenericImage>, String), String> {
    let image = image_of(server);
    let docker_host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "the default socket".into());
    // The tag follows the last ':' after the last '/' (a registry may carry a port).
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
        _ => (image.clone(), "latest".to_string()),
    };
    let mut request = GenericImage::new(name, tag)
        .with_exposed_port(ContainerPort::Tcp(server.port))
        .with_wait_for(WaitFor::Nothing)
        .with_label(TEST_LABEL, "1");
    for (key, value) in server.env {
        request = request.with_env_var(*key, *value);
    }
    let container = request.start().await.map_err(|e| {
        format!(
            "could not start the {} test container from {image} on {docker_host}: {e} \
             (set {} to a local image, or {} to a running server)",
            server.name, server.image_var, server.endpoint_var
        )
    })?;
    let port = container
        .get_host_port_ipv4(ContainerPort::Tcp(server.port))
        .await
        .map_err(|e| format!("no port mapped for {} ({image}): {e}", server.name))?;
    // Always loopback: where the tests run inside a container themselves, testcontainers'
    // get_host() answers the bridge gateway, which is not where the mapped port listens.
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let probe = server.probe;
    let ready = tokio::task::spawn_blocking(move || wait_until_answers(address, probe))
        .await
        .map_err(|e| e.to_string())?;
    if let Err(last) = ready {
        let _ = container.rm().await;
        return Err(format!(
            "the {} test container ({image}) did not answer on {address} within {} s: {last}",
            server.name,
            READY_TIMEOUT.as_secs()
        ));
    }
    eprintln!("test server {} ({image}) ready on {address}", server.name);
    Ok((container, (server.endpoint)(port)))
}

fn wait_until_answers(address: SocketAddr, probe: Probe) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let last = match answers(address, probe) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn answers(address: SocketAddr, probe: Probe) -> Result<(), String> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    match probe {
        Probe::MongoHello => {
            stream
                .write_all(&mongo_hello())
                .map_err(|e| e.to_string())?;
            let mut header = [0u8; 16];
            stream
                .read_exact(&mut header)
                .map_err(|e| format!("no reply to hello: {e}"))?;
            let op_code = i32::from_le_bytes([header[12], header[13], header[14], header[15]]);
            if op_code == OP_MSG {
                Ok(())
            } else {
                Err(format!("reply to hello with opCode {op_code}"))
            }
        }
        Probe::HttpGet(path) => {
            write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")
                .map_err(|e| e.to_string())?;
            let mut status = [0u8; 5];
            stream
                .read_exact(&mut status)
                .map_err(|e| format!("no HTTP reply: {e}"))?;
            if &status == b"HTTP/" {
                Ok(())
            } else {
                Err(format!("not an HTTP reply: {status:?}"))
            }
        }
    }
}

const OP_MSG: i32 = 2013;

/// `{hello: 1, $db: "admin"}` as an OP_MSG with one body section.
fn mongo_hello() -> Vec<u8> {
    let mut document = Vec::new();
    document.extend_from_slice(&[0; 4]); // length, filled below
    document.push(0x10); // int32
    document.extend_from_slice(b"hello\0");
    document.extend_from_slice(&1i32.to_le_bytes());
    document.push(0x02); // string
    document.extend_from_slice(b"$db\0");
    document.extend_from_slice(&6i32.to_le_bytes()); // "admin" and its NUL
    document.extend_from_slice(b"admin\0");
    document.push(0x00);
    let length = document.len() as i32;
    document[..4].copy_from_slice(&length.to_le_bytes());

    let mut message = Vec::new();
    let total = 16 + 4 + 1 + document.len();
    message.extend_from_slice(&(total as i32).to_le_bytes());
    message.extend_from_slice(&1i32.to_le_bytes()); // requestID
    message.extend_from_slice(&0i32.to_le_bytes()); // responseTo
    message.extend_from_slice(&OP_MSG.to_le_bytes());
    message.extend_from_slice(&0u32.to_le_bytes()); // flagBits
    message.push(0); // section kind 0: body
    message.extend_from_slice(&document);
    message
}

/// Runs at the exit of a test binary that started containers: removes them, failed tests
/// included (libtest exits through `exit`, which runs these handlers).
extern "C" fn remove_at_exit() {
    // A panic must not unwind out of an `extern "C"` function.
    let _ = std::panic::catch_unwind(|| {
        let Some(keeper) = KEEPER.get() else {
            return;
        };
        let (done, finished) = mpsc::channel();
        if keeper.send(Request::RemoveAll(done)).is_ok()
            && finished.recv_timeout(REMOVE_TIMEOUT).is_err()
        {
            eprintln!(
                "test containers not removed within {} s (look for label {TEST_LABEL})",
                REMOVE_TIMEOUT.as_secs()
            );
        }
    });
}
