# The two commands a newcomer needs (see README.md):
#   make demo   set up, build, and transcribe sample media
#   make test   set up, build with warnings as errors, and run the test suite
# Everything else is CMake: cmake --preset release && cmake --build --preset release

JOBS ?= $(shell nproc)
BUILD := build/release
AIMARA := $(BUILD)/aimara
SHARED ?= ../shared
CTEST_ARGS ?= -LE slow

.PHONY: all bootstrap build demo test test-all bench clean

all: build

bootstrap:
	scripts/bootstrap

build: bootstrap
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

demo: build
	scripts/demo

test: build
	scripts/run-tests $(CTEST_ARGS)

test-all: build
	scripts/run-tests

bench: build
	cmake --build --preset release -j $(JOBS) --target whisper-cli
	bench/compare-whisper-cli

clean:
	rm -rf build
