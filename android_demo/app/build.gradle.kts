plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "ygan.demo"
    compileSdk = 35
    defaultConfig {
        applicationId = "ygan.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }
    // The bundle (ygan build --android-dir android_demo) is read at run time from a copy in the app's
    // files directory (BundleAssets), which the interpreter maps after hashing the mapping.
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation(project(":pipeline"))
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.camera:camera-camera2:1.4.1")
    implementation("androidx.camera:camera-lifecycle:1.4.1")
    implementation("androidx.camera:camera-view:1.4.1")
    implementation("com.google.ai.edge.litert:litert:1.0.1")
    implementation("com.google.ai.edge.litert:litert-gpu:1.0.1")
    // litert-gpu 1.0.1 does not declare it, and GpuDelegate(options) fails without it (NoClassDefFoundError:
    // GpuDelegateFactory$Options) on the first GPU pick.
    implementation("com.google.ai.edge.litert:litert-gpu-api:1.0.1")
}

// The golden vectors are for tests (run_tests.sh, a debug build's checks): a release APK leaves them out,
// and the app reads its bundle with requireGoldens = false (BundleAssets).
androidComponents {
    onVariants(selector().withBuildType("release")) { variant ->
        variant.androidResources.ignoreAssetsPatterns.add("<dir>golden")
    }
}
