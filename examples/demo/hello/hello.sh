#!/bin/sh
# hello: the demo package of patchline.
echo "Hello, world!"
