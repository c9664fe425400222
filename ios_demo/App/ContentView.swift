import SwiftUI

struct ContentView: View {
    @StateObject private var camera = CameraPipeline()

    var body: some View {
        ZStack(alignment: .topLeading) {
            if let image = camera.output {
                Image(decorative: image, scale: 1).resizable().scaledToFit()
            } else {
                Color.black
            }
            VStack(alignment: .leading) {
                Text(camera.cells > 0 ? String(format: "%.1f fps · %d cells", camera.fps, camera.cells) : String(format: "%.1f fps", camera.fps))
                if let problem = camera.problem { Text(problem).foregroundColor(.red) }
            }.padding(8).background(.black.opacity(0.5)).foregroundColor(.white)
            VStack {
                Spacer()
                Picker("Sampling", selection: $camera.sampling) {
                    ForEach(CameraPipeline.Sampling.allCases, id: \.self) { Text($0.rawValue) }
                }.pickerStyle(.segmented).padding(.horizontal)
                Picker("Theme", selection: $camera.theme) {
                    ForEach(camera.themes, id: \.self) { Text($0) }
                }.pickerStyle(.segmented).padding()
            }
        }
        .onAppear { camera.start() }
    }
}
