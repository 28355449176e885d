# milter.sh
