#!/usr/bin/env bash
# rec.sh NAME ENVFILE WORKDIR CMD... : runs CMD in a 120x40 tmux session under `script`, logging both directions with timing.
name=$1; envf=$2; wd=$3; shift 3
mkdir -p ${RESEARCH_DIR:-/tmp/research}/rec
rm -f ${RESEARCH_DIR:-/tmp/research}/rec/$name.*
tmux kill-session -t $name 2>/dev/null
tmux new-session -d -x 120 -y 40 -s $name "source $envf; cd $wd; exec script -q -f -E never -m advanced -B ${RESEARCH_DIR:-/tmp/research}/rec/$name.io -T ${RESEARCH_DIR:-/tmp/research}/rec/$name.tm -c '$*'"
