import SwiftUI

/// SwiftUI shell: camera frames in, themed frames out. Add the bundle folder (manifest.json, coreml/,
/// golden/) to the app target as a folder reference named "bundle"; see docs/apps.md.
@main
struct YganDemoApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}
