// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "updatectl", targets: ["updatectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // C system libraries: one module map each, nothing else.
        .systemLibrary(name: "CBlkid", pkgConfig: "blkid", providers: [.apt(["libblkid-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(
            name: "Platform",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "Slots",
            dependencies: ["CBlkid", "Platform", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "Verification",
            dependencies: ["COpenSSL", "Platform", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "Streaming",
            dependencies: ["CCurl", "Platform", "Slots", "Verification", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .executableTarget(
            name: "updatectl",
            dependencies: ["Slots", "Streaming", "Verification", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        .target(name: "TestSupport", dependencies: ["Slots", "Streaming", "Verification"], path: "Tests/TestSupport"),
        .testTarget(name: "SlotsTests", dependencies: ["Slots", "TestSupport"]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "TestSupport"]),
        .testTarget(name: "StreamingTests", dependencies: ["Streaming", "TestSupport"]),
        .testTarget(name: "UpdatectlTests", dependencies: ["updatectl", "TestSupport", "Slots", "Verification"]),
    ]
)
