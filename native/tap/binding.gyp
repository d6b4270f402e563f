{
  "targets": [
    {
      "target_name": "tap",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["tap.c"],
          "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
