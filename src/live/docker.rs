//! The service's replicas as Docker containers (bollard): list, start, stop, and the
//! `FROM scratch` image. Only containers carrying the service label are ever touched.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    BuildImageOptions, CreateContainerOptions, ListContainersOptions, RemoveContainerOptions,
    StopContainerOptions,
};
use futures_util::StreamExt;

use super::config::ServiceSection;
use super::{LABEL_PORT, LABEL_SERVICE};

/// One replica container of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub id: String,
    pub name: String,
    pub port: u16,
    /// Creation time (unix seconds).
    pub created: i64,
    /// `running`, `created`, `exited`, ...
    pub state: String,
}

impl Replica {
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

/// A connection to the Docker engine.
#[derive(Clone)]
pub struct Engine {
    docker: bollard::Docker,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl Engine {
    /// Connects through DOCKER_HOST or the local socket and negotiates the API version
    /// (Debian's engine 20.10 speaks 1.41).
    pub async fn connect() -> Result<Engine> {
        let hint = "is dockerd running and is its socket (/var/run/docker.sock, or DOCKER_HOST) readable by this user?";
        let docker = bollard::Docker::connect_with_defaults()
            .with_context(|| format!("cannot reach the Docker engine: {hint}"))?;
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| anyhow!("the Docker engine did not answer within 10 s: {hint}"))?
            .with_context(|| format!("cannot reach the Docker engine: {hint}"))?;
        docker
            .ping()
            .await
            .with_context(|| format!("the Docker engine does not answer: {hint}"))?;
        Ok(Engine { docker })
    }

    /// [`Engine::connect`], retried every second until it succeeds (a background task's
    /// engine: `who` names it in the warnings).
    pub async fn connect_retrying(who: &str) -> Engine {
        loop {
            match Engine::connect().await {
                Ok(e) => return e,
                Err(e) => {
                    tracing::warn!("{who}: {e:#}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Containers (running or not) labelled as replicas of `service`.
    pub async fn replicas(&self, service: &str) -> Result<Vec<Replica>> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_SERVICE}={service}")],
        )]);
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .context("cannot list containers")?;
        let mut out: Vec<Replica> = list
            .into_iter()
            .filter_map(|c| {
                let labels = c.labels.unwrap_or_default();
                // Belt and braces: the filter already asked for the label.
                if labels.get(LABEL_SERVICE).map(String::as_str) != Some(service) {
                    return None;
                }
                let port = labels.get(LABEL_PORT)?.parse().ok()?;
                Some(Replica {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.first().cloned())
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    port,
                    created: c.created.unwrap_or(0),
                    state: c
                        .state
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                        .to_lowercase(),
                })
            })
            .collect();
        out.sort_by_key(|r| (r.created, r.port));
        Ok(out)
    }

    /// Creates and starts a replica on 127.0.0.1:`port` (host networking).
    pub async fn start_replica(
        &self,
        svc: &ServiceSection,
        port: u16,
        seed: u64,
    ) -> Result<Replica> {
        let name = replica_name(&svc.name, port);
        let labels = HashMap::from([
            (LABEL_SERVICE.to_string(), svc.name.clone()),
            (LABEL_PORT.to_string(), port.to_string()),
        ]);
        let cmd = vec![
            "serve".to_string(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--service-time".into(),
            svc.service_time.to_string(),
            "--concurrency".into(),
            svc.concurrency.to_string(),
            "--queue".into(),
            svc.queue.to_string(),
            "--seed".into(),
            seed.to_string(),
        ];
        let body = ContainerCreateBody {
            image: Some(svc.image.clone()),
            cmd: Some(cmd),
            labels: Some(labels),
            stop_timeout: Some(svc.stop_timeout_s as i64),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await
            .with_context(|| {
                format!(
                    "cannot create container {name} from image {} (build it with `sim image`)",
                    svc.image
                )
            })?;
        self.docker
            .start_container(&created.id, None)
            .await
            .with_context(|| format!("cannot start container {name}"))?;
        Ok(Replica {
            id: created.id,
            name,
            port,
            created: chrono::Utc::now().timestamp(),
            state: "running".into(),
        })
    }

    /// Stops a replica gracefully (SIGTERM, then SIGKILL after `timeout_s`) and removes it.
    pub async fn stop_replica(&self, r: &Replica, timeout_s: u32) -> Result<()> {
        if r.running() {
            self.docker
                .stop_container(
                    &r.id,
                    Some(StopContainerOptions {
                        t: Some(timeout_s as i32),
                        ..Default::default()
                    }),
                )
                .await
                .or_else(ignore_not_found)
                .with_context(|| format!("cannot stop container {}", r.name))?;
        }
        self.remove(r).await
    }

    /// Removes a (stopped) replica's container.
    pub async fn remove(&self, r: &Replica) -> Result<()> {
        self.docker
            .remove_container(
                &r.id,
                Some(RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                }),
            )
            .await
            .or_else(ignore_not_found)
            .with_context(|| format!("cannot remove container {}", r.name))
    }

    /// True when the image exists locally.
    pub async fn has_image(&self, tag: &str) -> Result<bool> {
        match self.docker.inspect_image(tag).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e).context("cannot inspect images"),
        }
    }

    /// Builds `tag` FROM scratch with `binary` as /sim (its entry point).
    pub async fn build_image(&self, binary: &Path, tag: &str) -> Result<()> {
        let context = image_context(binary)?;
        let mut stream = self.docker.build_image(
            BuildImageOptions {
                dockerfile: "Dockerfile".into(),
                t: Some(tag.to_string()),
                rm: true,
                forcerm: true,
                ..Default::default()
            },
            None,
            Some(bollard::body_full(context.into())),
        );
        while let Some(msg) = stream.next().await {
            let info = msg.context("image build failed")?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                bail!("image build failed: {err}");
            }
            if let Some(s) = info.stream {
                tracing::debug!("build: {}", s.trim_end());
            }
        }
        Ok(())
    }
}

fn ignore_not_found(e: bollard::errors::Error) -> std::result::Result<(), bollard::errors::Error> {
    match e {
        // Already gone (killed from outside, or removed by someone else): nothing to do.
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 304,
            ..
        } => Ok(()),
        e => Err(e),
    }
}

/// Container name of the replica on `port`.
pub fn replica_name(service: &str, port: u16) -> String {
    format!("scalesim-{service}-{port}")
}

/// The Dockerfile of the serving image.
pub const DOCKERFILE: &str =
    "FROM scratch\nCOPY sim /sim\nENTRYPOINT [\"/sim\"]\nCMD [\"serve\"]\n";

/// A tar build context: the Dockerfile and the (static) binary.
fn image_context(binary: &Path) -> Result<Vec<u8>> {
    let bin = std::fs::read(binary).with_context(|| {
        format!(
            "cannot read {}: build the static binary first (scripts/build-image.sh does)",
            binary.display()
        )
    })?;
    if !is_static_elf(&bin) {
        bail!(
            "{} is not a statically linked executable, so it cannot run in a FROM scratch image: build it with RUSTFLAGS='-C target-feature=+crt-static' (scripts/build-image.sh)",
            binary.display()
        );
    }
    let mut ar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8], mode: u32| -> Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_cksum();
        ar.append_data(&mut h, name, data)
            .context("cannot build the image context")
    };
    add("Dockerfile", DOCKERFILE.as_bytes(), 0o644)?;
    add("sim", &bin, 0o755)?;
    ar.into_inner().context("cannot build the image context")
}

/// An ELF executable without a program interpreter (PT_INTERP), i.e. statically linked.
pub fn is_static_elf(bin: &[u8]) -> bool {
    if bin.len() < 64 || &bin[..4] != b"\x7fELF" || bin[4] != 2 {
        return false;
    }
    let u16at = |o: usize| u16::from_le_bytes([bin[o], bin[o + 1]]) as usize;
    let u64at = |o: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bin[o..o + 8]);
        u64::from_le_bytes(b) as usize
    };
    let (phoff, phentsize, phnum) = (u64at(0x20), u16at(0x36), u16at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        // PT_INTERP = 3
        o + 4 <= bin.len() && u32::from_le_bytes([bin[o], bin[o + 1], bin[o + 2], bin[o + 3]]) != 3
    })
}
