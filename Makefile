# `make demo` and `make test` each set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= results/demo

.PHONY: env test test-all demo demo-breakout demo-boxing lint bench clean

env: $(STAMP)

# pip 24.3.1 passes PIP_CONSTRAINT on to isolated builds (chainer's sdist
# needs setuptools<74 there); pip 26.3 did not and wants --build-constraint.
$(STAMP): requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check pip==24.3.1
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(VENV)/bin/pip install -q \
		--disable-pip-version-check -r requirements.txt
	touch $@

test: $(STAMP)
	$(PY) -m pytest

test-all: $(STAMP)
	$(PY) -m pytest -m ""

lint: $(STAMP)
	$(PY) -m flake8 examples tests bench

AGENT ?= examples/mygym/pretrained/pong

# One episode of the shipped Pong agent with guided saliency, offline.
demo: $(STAMP)
	$(PY) examples/mygym/train_a3c_gym.py 1 --env PongNoFrameskip-v4 \
		--demo --load $(AGENT) --eval-n-runs 1 --methods guided \
		--outdir $(DEMO_DIR) --out $(DEMO_DIR)/videos --overwrite

BREAKOUT ?= examples/mygym/pretrained/breakout-lstm
BREAKOUT_DIR ?= results/demo-breakout

# The XAITK example's workflow, offline: 3,000 steps of the Breakout
# LSTM-CNN agent with guided-saliency videos, recorded as a rollout; then
# Greydanus saliency of frames 1,000..1,039 of it.
demo-breakout: $(STAMP)
	$(PY) examples/mygym/train_a3c_gym.py 1 --env BreakoutNoFrameskip-v4 \
		--arch LSTM --demo --load $(BREAKOUT) --eval-n-steps 3000 \
		--methods guided --outdir $(BREAKOUT_DIR) \
		--out $(BREAKOUT_DIR)/videos --overwrite \
		--record-rollout $(BREAKOUT_DIR)/rollout.npz
	$(PY) examples/mygym/saliency_app.py \
		--rollout $(BREAKOUT_DIR)/rollout.npz --start-frame 1000 \
		--end-frame 1039 --methods greydanus --workers 2 \
		--out $(BREAKOUT_DIR)/app --overwrite

BOXING ?= examples/mygym/pretrained/boxing
BOXING_DIR ?= results/demo-boxing

# The original project's own example, offline: its Boxing demo command
# (4 processes named, as there; a demo plays in one) on the shipped
# Boxing agent, one game with guided-saliency videos of actor and critic.
demo-boxing: $(STAMP)
	$(PY) examples/mygym/train_a3c_gym.py 4 --env Boxing-v0 \
		--outdir $(BOXING_DIR) --t-max 5 --lr 7e-4 --min_reward -500 \
		--beta 1e-2 --reward-scale-factor 1.0 --rmsprop-epsilon 0.1 \
		--demo --load $(BOXING) --eval-n-runs 1 \
		--out $(BOXING_DIR)/videos --overwrite

clean:
	rm -rf $(VENV) .pytest_cache
