// A consumer-group member as a Java service built on the official client would be one:
// the client's default partition assignors (range, cooperative-sticky), nothing tuned.
// Run by test_kafka_java_member.py: java -cp "<kafka libs>/*" JavaGroupMember.java
//     BOOTSTRAP TOPIC GROUP SECONDS
// Prints "ASSIGNED <partitions>" after each assignment, "RECORD <partition> <offset>" for
// each record, and "ERROR <exception>" (exit 1) when the group refuses it.
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class JavaGroupMember {
    public static void main(String[] args) {
        Properties config = new Properties();
        config.put("bootstrap.servers", args[0]);
        config.put("group.id", args[2]);
        config.put("auto.offset.reset", "earliest");
        config.put("key.deserializer", ByteArrayDeserializer.class.getName());
        config.put("value.deserializer", ByteArrayDeserializer.class.getName());
        long deadline = System.currentTimeMillis() + Long.parseLong(args[3]) * 1000;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(args[1]), new ConsumerRebalanceListener() {
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    System.out.println("ASSIGNED " + consumer.assignment().stream()
                        .map(p -> String.valueOf(p.partition())).sorted()
                        .collect(Collectors.joining(",")));
                    System.out.flush();
                }
            });
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    System.out.println("RECORD " + record.partition() + " " + record.offset());
                }
                System.out.flush();
                consumer.commitSync();
            }
        } catch (Exception error) {
            System.out.println("ERROR " + error);
            System.exit(1);
        }
    }
}
