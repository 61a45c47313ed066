# The notebooks for a class: JupyterHub (as its single-user image) or Binder (which builds this
# file). Everything is installed and built by the project's own command, `cargo xtask setup
# --prewarm`: evcxr_jupyter 0.22.0, the pinned Jupyter tooling, the Rust kernel, and the support
# crate with its dependencies compiled into the kernels' build directories, so that a student's
# first cell in a new container runs without compiling them.
FROM rust:1.95-bookworm

ARG NB_USER=jovyan
ARG NB_UID=1000
ENV USER=${NB_USER} HOME=/home/${NB_USER}

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid ${NB_UID} ${NB_USER}

COPY --chown=${NB_UID} . ${HOME}/elbo
USER ${NB_USER}
WORKDIR ${HOME}/elbo
# cargo installs evcxr_jupyter for the notebook user, not into the image's system cargo.
ENV CARGO_HOME=${HOME}/.cargo
ENV PATH=${HOME}/.cargo/bin:${HOME}/elbo/.venv/bin:/usr/local/cargo/bin:${PATH} \
    JUPYTER_PATH=${HOME}/elbo/.venv/share/jupyter

RUN cargo xtask setup --prewarm

EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser", "--ServerApp.root_dir=/home/jovyan/elbo/notebooks"]
