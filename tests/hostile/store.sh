# store.sh
