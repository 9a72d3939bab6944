# Tandem: build, test, demo, benchmark and install.
# `make demo` and `make test` install what they need first (make deps).

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DOCDIR ?= $(PREFIX)/share/doc/tandem
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# dbus-daemon reads system-bus policies only from /usr/share and /etc: with PREFIX=/usr/local,
# set DBUSPOLICYDIR=/etc/dbus-1/system.d.
DBUSPOLICYDIR ?= $(PREFIX)/share/dbus-1/system.d
SWIFT ?= swift
BUILD_FLAGS ?= -c release
BIN_DIR := $(shell $(SWIFT) build $(BUILD_FLAGS) --show-bin-path 2>/dev/null)

# Debian packages for the build (C libraries), the tests (disk tools as oracles, loop devices,
# mkfs and mount) and the demo.
APT_PACKAGES := pkg-config libblkid-dev libssl-dev libsystemd-dev \
	libcurl4-openssl-dev libxml2-dev libzstd-dev gdisk fdisk util-linux mount e2fsprogs dbus systemd openssl coreutils python3 curl time gcc \
	etcd-server etcd-client grub-common dosfstools cgpt

# `make boot-test` (docs/boot-test.md): QEMU with OVMF, stock GRUB and systemd-boot, and what
# builds the guest's disk and initramfs.
APT_PACKAGES += qemu-system-x86 ovmf grub-efi-amd64-bin systemd-boot systemd-boot-efi \
	busybox-static mtools cpio zstd jq binutils

# `make vm-test` (docs/vm-test.md): a debootstrapped Debian guest under QEMU with a real systemd.
APT_PACKAGES += debootstrap squashfs-tools

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# `make fuzz`: every libFuzzer target for FUZZ_SECONDS each (docs/fuzzing.md). Each target has
# a seed directory in Fuzz/Corpus (the replay test checks it); FUZZ_TARGETS=omaha runs one.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(notdir $(wildcard Fuzz/Corpus/*))
FUZZ_SCRATCH := .build-fuzz
FUZZ_BUILD_FLAGS := -c release --product tandem-fuzz --scratch-path $(FUZZ_SCRATCH) \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -DTANDEM_LIBFUZZER

# `make boot-test`: updatectl runs in the guest too, so it is built with the Swift runtime linked
# in; the guest kernel (Debian's, fetched as a package, never installed) is cached in BOOT_CACHE.
BOOT_SCRATCH := .build-static
BOOT_CACHE := .build-boot
BOOT_BUILD_FLAGS := -c release --static-swift-stdlib --product updatectl --scratch-path $(BOOT_SCRATCH)

# `make vm-test`: tandemd and updatectl run in the Debian guest, so both are built with the Swift
# runtime linked in and installed with `make install DESTDIR=` as a distribution would; the
# debootstrapped tree is cached in VM_CACHE.
VM_CACHE := .build-vm
VM_BUILD_FLAGS := -c release --static-swift-stdlib --scratch-path $(BOOT_SCRATCH)

.PHONY: all deps build test demo bench bench-deps install clean fuzz boot-deps boot-test vm-test

all: build

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# nginx: the multi-range oracle in make test, and the HTTP figures of make bench, as a
	@# static update server. Only the package: the policy-rc.d refusal keeps its service from
	@# starting on port 80 while it is installed.
	@dpkg-query -W -f='$${Status}' nginx-light 2>/dev/null | grep -q 'ok installed' || { \
		printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d > /dev/null && $(SUDO) chmod +x /usr/sbin/policy-rc.d; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nginx-light; status=$$?; \
		$(SUDO) rm -f /usr/sbin/policy-rc.d; exit $$status; }

# The two installed programs only: the test-support targets need the Testing module, which a
# --static-swift-stdlib build (make vm-test) does not have.
build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product tandemd
	$(SWIFT) build $(BUILD_FLAGS) --product updatectl

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

fuzz: deps
	$(SWIFT) build $(FUZZ_BUILD_FLAGS)
	Fuzz/Scripts/run-fuzzers.sh "$$($(SWIFT) build $(FUZZ_BUILD_FLAGS) --show-bin-path)/tandem-fuzz" \
		$(FUZZ_SECONDS) $(FUZZ_SCRATCH) $(FUZZ_TARGETS)

boot-deps: deps
	Tests/Boot/fetch-kernel.sh $(BOOT_CACHE)

boot-test: boot-deps
	$(SWIFT) build $(BOOT_BUILD_FLAGS)
	Tests/Boot/boot-test.sh $(BOOT_TEST_FLAGS) "$$($(SWIFT) build $(BOOT_BUILD_FLAGS) --show-bin-path)/updatectl" $(BOOT_CACHE)

vm-test: deps
	rm -rf $(VM_CACHE)/install
	$(MAKE) install DESTDIR="$(abspath $(VM_CACHE))/install" PREFIX=/usr BUILD_FLAGS="$(VM_BUILD_FLAGS)"
	Tests/VM/vm-test.sh $(VM_TEST_FLAGS) $(VM_CACHE)/install $(VM_CACHE)

demo: build
	Tests/Scripts/demo.sh "$(BIN_DIR)"

# casync is the delta baseline for the realistic image pair (Tests/Scripts/image_pair.py);
# iproute2 (ip, tc) shapes the 1 Gbit/s link the delta figures are also taken over.
bench-deps: deps
	@dpkg-query -W -f='$${Status}' casync iproute2 2>/dev/null | grep -c 'ok installed' | grep -qx 2 || \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends casync e2fsprogs libzstd1 iproute2

bench: build bench-deps
	Tests/Scripts/bench.sh "$(BIN_DIR)"

install: build
	install -D -m 0755 "$(BIN_DIR)/tandemd" "$(DESTDIR)$(SBINDIR)/tandemd"
	install -D -m 0755 "$(BIN_DIR)/updatectl" "$(DESTDIR)$(BINDIR)/updatectl"
	install -d "$(DESTDIR)$(SYSTEMDUNITDIR)" "$(DESTDIR)$(DBUSPOLICYDIR)" "$(DESTDIR)$(DOCDIR)"
	for unit in tandemd.service tandem-bless-boot.service; do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' "systemd/$$unit" \
			> "$(DESTDIR)$(SYSTEMDUNITDIR)/$$unit" && chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/$$unit" || exit 1; \
	done
	install -m 0644 systemd/org.tandem.Updater1.conf systemd/com.coreos.update1.conf "$(DESTDIR)$(DBUSPOLICYDIR)/"
	install -m 0644 README.md docs/*.md "$(DESTDIR)$(DOCDIR)/"

clean:
	rm -rf .build .build-* fuzz-crashes
