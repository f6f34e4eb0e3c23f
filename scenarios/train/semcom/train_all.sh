#!/bin/sh
# Every semantic-communication model of scenarios/semcom.yaml: the digit classifier, and 3 systems x k in {4, 8, 16}
# x 1 or 2 users (cpu profile, exported to linksim/zoo/semcom-<system>-k<k>-u<users>-cpu).
set -e
here=$(dirname "$0")
linksim train "$here/classifier.yaml" --no-progress   # the digit classifier of the accuracy metric
for system in ae vae dae; do
  for k in 4 8 16; do
    for users in 1 2; do
      linksim train "$here/$system.yaml" --no-progress --set k=$k --set users=$users \
        --set name=semcom-$system-k$k-u$users-cpu
    done
  done
done
