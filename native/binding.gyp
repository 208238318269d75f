# Built by native/build.mjs (npm install / npm run build:native) with node-gyp. Optional: where it
# cannot build, synack installs without it and src/link/tap.ts says how to build it.
{
  "targets": [
    {
      "target_name": "synack_tun",
      "sources": ["tun.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["tun.c"]}]]
    }
  ]
}
