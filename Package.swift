// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "updatectl", targets: ["updatectl"]),
        .executable(name: "tandemd", targets: ["tandemd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C system libraries: one module map each, nothing else.
        .systemLibrary(name: "CBlkid", pkgConfig: "blkid", providers: [.apt(["libblkid-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLibFuzzer"),
        .systemLibrary(name: "CMalloc"),

        .target(
            name: "Platform",
            dependencies: ["CMalloc", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The types both ends of the D-Bus API share: the status snapshot, records, result codes,
        // boot reports, marks, slot choice, strategies and error names. No engine: only Slots, for
        // SlotName and BootBackendKind.
        .target(
            name: "UpdateModel",
            dependencies: ["Slots"]
        ),
        .target(
            name: "Slots",
            dependencies: ["CBlkid", "Platform", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The bootloaders Tandem drives besides the GPT bits: GRUB's environment block,
        // systemd-boot's entries, a custom hook; and the ESP their files live on.
        .target(
            name: "Bootloaders",
            dependencies: ["Platform", "Slots", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "Verification",
            dependencies: ["COpenSSL", "Platform", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Every HTTP transfer over libcurl: exchanges (Omaha, etcd, FleetLock) and downloads.
        // What a delta install of a format 3 bundle would fetch (image diff now, the installer next).
        .target(
            name: "Delta",
            dependencies: ["CZstd", "Platform", "Verification", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "HTTP",
            dependencies: ["CCurl", "Platform"]
        ),
        .target(
            name: "Streaming",
            dependencies: ["Delta", "HTTP", "Platform", "Slots", "UpdateModel", "Verification", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The Omaha v3 protocol as update_engine speaks it: requests, responses, events, error codes.
        .target(
            name: "Omaha",
            dependencies: ["CLibXML2", "HTTP", "Platform", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Reboot coordination with a fleet: locksmith's etcd semaphore, FleetLock, reboot windows.
        .target(
            name: "Coordination",
            dependencies: ["HTTP", "Platform", "UpdateModel", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "Engine",
            dependencies: ["Bootloaders", "Coordination", "HTTP", "Omaha", "Platform", "Slots", "Streaming", "UpdateModel", "Verification",
                           .product(name: "SystemPackage", package: "swift-system"), .product(name: "Logging", package: "swift-log")]
        ),
        // sd-bus and sd-event in Swift: connections, values, exported objects, the event loop.
        .target(
            name: "BusCore",
            dependencies: ["CSystemd", "Platform"],
            path: "Sources/Bus/Core"
        ),
        // org.tandem.Updater1 from the caller's side, and what both ends share: the API's names
        // and descriptions, the status encoding. No engine, so updatectl links none.
        .target(
            name: "BusClient",
            dependencies: ["BusCore", "Slots", "UpdateModel"],
            path: "Sources/Bus/Client"
        ),
        // The daemon's two D-Bus faces (org.tandem.Updater1, com.coreos.update1) over the engine.
        .target(
            name: "BusService",
            dependencies: ["BusClient", "BusCore", "Engine", "Platform", "Slots", "Streaming", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Bus/Service"
        ),
        // Running under systemd: readiness and watchdog notifications, journald logging.
        .target(
            name: "Service",
            dependencies: ["CSystemd", "Platform", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "tandemd",
            dependencies: ["Bootloaders", "BusClient", "BusCore", "BusService", "Engine", "Platform", "Service", "Slots", "Streaming", "Verification",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "updatectl",
            dependencies: ["Bootloaders", "BusClient", "BusCore", "Delta", "Slots", "Streaming", "UpdateModel", "Verification",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        // Fuzzing: one entry point per parser of hostile input (FuzzTargets), and the driver that
        // `make fuzz` builds with -sanitize=fuzzer; without it, tandem-fuzz replays files.
        .target(
            name: "FuzzTargets",
            dependencies: ["Bootloaders", "Coordination", "Delta", "Engine", "HTTP", "Omaha", "Slots", "Verification",
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        .executableTarget(
            name: "tandem-fuzz",
            dependencies: ["CLibFuzzer", "FuzzTargets", "Platform", .product(name: "SystemPackage", package: "swift-system")]
        ),

        .target(name: "TestSupport", dependencies: ["Delta", "Slots", "Streaming", "Verification"], path: "Tests/TestSupport"),
        .testTarget(name: "BusTests", dependencies: ["BusClient", "BusCore", "BusService", "TestSupport", "UpdateModel"]),
        .testTarget(name: "ServiceTests", dependencies: ["Service", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EngineTests", dependencies: ["Bootloaders", "Engine", "TestSupport", "Slots"]),
        .testTarget(name: "OmahaTests", dependencies: ["Omaha", "HTTP", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"]),
        .testTarget(name: "CoordinationTests", dependencies: ["Coordination", "HTTP", "TestSupport", "UpdateModel"]),
        .testTarget(name: "DaemonTests", dependencies: ["Bootloaders", "BusCore", "Delta", "Engine", "TestSupport", "Slots",
                                                      "Streaming", "Verification"]),
        .testTarget(name: "SlotsTests", dependencies: ["Slots", "TestSupport"]),
        .testTarget(name: "BootloadersTests", dependencies: ["Bootloaders", "Slots", "TestSupport"]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "TestSupport"]),
        .testTarget(name: "DeltaTests", dependencies: ["Delta", "TestSupport", "Verification"]),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "TestSupport"]),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "TestSupport"]),
        .testTarget(name: "UpdatectlTests", dependencies: ["updatectl", "BusClient", "TestSupport", "Slots", "Verification",
                                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ]
)
