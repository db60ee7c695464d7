export TRAINING_DATA=/tmp/data
