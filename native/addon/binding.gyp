{
  "targets": [
    {
      "target_name": "runts_native",
      "sources": ["runts_native.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GLIBCXX_ASSERTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-fno-exceptions", "-fno-rtti", "-ffunction-sections", "-fdata-sections"],
      "ldflags": ["-static-libstdc++", "-static-libgcc", "-Wl,--gc-sections", "-s"]
    }
  ]
}
